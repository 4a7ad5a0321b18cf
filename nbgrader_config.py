"""nbgrader's configuration for the course (COURSE.md, "Teaching with it").

From the repository root, ``nbgrader generate_assignment notebooks --force`` reads the instructor
notebooks in notebooks/ (the committed course, solutions collapsed) and writes the student edition
to classroom/release/notebooks/: answers replaced by "YOUR CODE HERE" / "YOUR ANSWER HERE",
outputs and hidden tests removed, check cells locked. Everything nbgrader writes (the gradebook,
submissions, autograded copies, feedback) stays in classroom/, which git ignores.
"""

import os

from nbgrader.preprocessors import NbGraderPreprocessor

c = get_config()  # noqa: F821 (nbgrader defines it when it reads this file)

os.makedirs("classroom", exist_ok=True)
c.CourseDirectory.course_id = "aelib"
c.CourseDirectory.root = os.getcwd()
c.CourseDirectory.source_directory = "."  # the assignment "notebooks" is the folder notebooks/
for step in ("release", "submitted", "autograded", "feedback", "solution"):
    setattr(c.CourseDirectory, f"{step}_directory", f"classroom/{step}")
c.CourseDirectory.db_url = "sqlite:///classroom/gradebook.db"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".*"]
# Autograding runs each notebook from the top; the longest cell trains for a few minutes on CPU.
c.Execute.timeout = 1200


class OpenAnswerCells(NbGraderPreprocessor):
    """In the instructor notebooks the answers are collapsed; a student's empty answer cells open."""

    def preprocess_cell(self, cell, resources, index):
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.metadata.pop("jupyter", None)
        return cell, resources


def _generate_assignment_preprocessors():
    from nbgrader.converters import GenerateAssignment

    return [*GenerateAssignment.class_traits()["preprocessors"].default(), OpenAnswerCells]


c.GenerateAssignment.preprocessors = _generate_assignment_preprocessors()
