"""What every aelib model shares: checked ``fit``, and for models that carry their own loss, one
custom training step written once per Keras backend.

- :class:`Autoencoder`: a functional ``keras.Model`` (what the dense, conv, denoising, sparse
  and recurrent builders return) whose ``fit`` refuses NaN/inf inputs before training and stops
  by name when the loss becomes NaN.
- :class:`EncoderDecoderModel`: the base of subclassed models made of an ``encoder`` and a
  ``decoder`` sub-model; ``get_config``/``from_config`` are written here once.
- :class:`LossTermsModel`: an :class:`EncoderDecoderModel` whose loss lives in the model
  (``compile`` takes just an optimizer). A subclass writes one backend-neutral method,
  ``loss_terms(x, sample_weight, training)``, returning a dict of scalar terms whose ``"loss"``
  is minimised; ``train_step`` and ``test_step`` below differentiate it on TensorFlow
  (``GradientTape``), JAX (stateless, ``jax.value_and_grad``) or PyTorch (``backward()``).
"""

import keras
import numpy as np
from keras import ops

from ..callbacks import StopOnNaN
from ..checks import check_finite


def batch_mean(values, sample_weight=None):
    """Mean of per-example ``values`` over the batch; with ``sample_weight``, Keras' convention
    for weighted losses: ``sum(values * weight) / batch size``."""
    values = ops.cast(values, "float32")
    if sample_weight is None:
        return ops.mean(values)
    weight = ops.reshape(ops.cast(sample_weight, "float32"), (-1,))
    return ops.sum(values * weight) / ops.cast(ops.shape(values)[0], "float32")


class _CheckedFit:
    """``fit``/``evaluate`` that look at the data first: NaN or inf in an array is refused with
    its name and first index, before any step runs; and ``fit`` stops on a NaN loss."""

    def check_data(self, x, name):
        """Refuse data the model cannot learn from; subclasses add their own checks."""
        check_finite(x, name)

    def _checked(self, x, y, sample_weight, validation_data=None):
        self.check_data(x, "x")
        check_finite(y, "y")
        check_finite(sample_weight, "sample_weight")
        if isinstance(validation_data, (tuple, list)) and validation_data:
            self.check_data(validation_data[0], "validation_data[0]")
            for i, part in enumerate(validation_data[1:], start=1):
                check_finite(part, f"validation_data[{i}]")
        return self._targets(x, y, sample_weight)

    def _targets(self, x, y, sample_weight):
        return y

    def fit(
        self,
        x=None,
        y=None,
        batch_size=None,
        epochs=1,
        verbose="auto",
        callbacks=None,
        validation_split=0.0,
        validation_data=None,
        sample_weight=None,
        **kwargs,
    ):
        y = self._checked(x, y, sample_weight, validation_data)
        callbacks = list(callbacks or [])
        if not any(isinstance(c, StopOnNaN) for c in callbacks):
            callbacks.append(StopOnNaN())
        return super().fit(
            x,
            y,
            batch_size=batch_size,
            epochs=epochs,
            verbose=verbose,
            callbacks=callbacks,
            validation_split=validation_split,
            validation_data=validation_data,
            sample_weight=sample_weight,
            **kwargs,
        )

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, **kwargs):
        y = self._checked(x, y, sample_weight)
        return super().evaluate(x, y, batch_size=batch_size, verbose=verbose, sample_weight=sample_weight, **kwargs)


@keras.saving.register_keras_serializable(package="aelib")
class Autoencoder(_CheckedFit, keras.Model):
    """A functional model (``Autoencoder(inputs, outputs, name=...)``) with checked ``fit``.

    Everything else is plain Keras: ``summary``, ``get_layer("encoder")``, ``.input``,
    ``compile(optimizer, loss)``, save and load.
    """


def join(encoder, decoder, input_shape, name, corruption=None):
    """The autoencoder ``decoder(encoder(inputs))`` (behind an optional training-only
    ``corruption`` layer), as an :class:`Autoencoder`: a functional model with checked fit."""
    inputs = keras.Input(input_shape, name="input")
    x = corruption(inputs) if corruption is not None else inputs
    return Autoencoder(inputs, decoder(encoder(x)), name=name)


@keras.saving.register_keras_serializable(package="aelib")
class EncoderDecoderModel(_CheckedFit, keras.Model):
    """Base of subclassed models made of sub-models: ``encoder`` and ``decoder`` (and any other
    names listed in ``submodels``). Subclasses add their own arguments to ``get_config``."""

    submodels = ("encoder", "decoder")

    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder, self.decoder = encoder, decoder

    def call(self, inputs, training=False):
        return self.decoder(self.encoder(inputs, training=training), training=training)

    def get_config(self):
        config = super().get_config()
        for name in self.submodels:
            config[name] = keras.saving.serialize_keras_object(getattr(self, name))
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for name in cls.submodels:
            config[name] = keras.saving.deserialize_keras_object(config[name])
        return cls(**config)


class LossTermsModel(EncoderDecoderModel):
    """A model whose loss is built in: subclasses define ``term_names`` (the metrics ``fit``
    reports, ``"loss"`` first) and ``loss_terms(x, sample_weight=None, training=False)``.

    ``loss_terms`` returns a dict of scalar tensors, one per name in ``term_names``, averaged
    over the batch (use :func:`batch_mean` so that ``sample_weight`` counts); ``"loss"`` is what
    the optimizer minimises, plus any penalty the layers add (``model.losses``). It is written
    with ``keras.ops`` only, so the one definition serves all three backends below, as well as
    ``evaluate`` and distribution. Under a mixed-precision policy the loss goes through
    ``optimizer.scale_loss``, so a ``LossScaleOptimizer`` (which ``compile`` installs for
    ``mixed_float16``) scales and unscales it.
    """

    term_names = ("loss",)

    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(encoder, decoder, **kwargs)
        self.trackers = [keras.metrics.Mean(name=name) for name in self.term_names]

    @property
    def metrics(self):
        return list(self.trackers)

    def loss_terms(self, x, sample_weight=None, training=False):
        raise NotImplementedError

    def _targets(self, x, y, sample_weight):
        """Keras packs ``(x,)`` alone when ``y`` is None and drops ``sample_weight`` with it; a
        zero-width placeholder target keeps the weights on their way to ``loss_terms``."""
        if sample_weight is None or y is not None:
            return y
        return np.zeros((len(keras.tree.flatten(x)[0]), 0), "float32")

    def _terms(self, data, training):
        """Unpack what ``fit`` passes (x, y, sample_weight), compute the terms, add penalties."""
        x, _, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        terms = dict(self.loss_terms(x, sample_weight=sample_weight, training=training))
        if training and self.losses:
            terms["loss"] = terms["loss"] + ops.sum(ops.stack([ops.cast(v, "float32") for v in self.losses]))
        # The batch size, so that the epoch means weigh every example once (a last, smaller
        # batch counts for less), as Keras' own loss tracker does.
        terms["batch_size"] = ops.cast(ops.shape(keras.tree.flatten(x)[0])[0], "float32")
        return terms

    def _record(self, terms):
        for tracker in self.trackers:
            tracker.update_state(terms[tracker.name], sample_weight=terms["batch_size"])
        return {tracker.name: tracker.result() for tracker in self.trackers}

    # ---- one optimizer step, per backend ----------------------------------------------------
    def train_step(self, *args):
        return getattr(self, f"_train_step_{keras.backend.backend()}")(*args)

    def _train_step_tensorflow(self, data):
        import tensorflow as tf

        with tf.GradientTape() as tape:
            terms = self._terms(data, training=True)
            # Under tf.distribute each replica sees part of the batch and the gradients are
            # summed, so each divides its loss by the number of replicas.
            replicas = tf.distribute.get_strategy().num_replicas_in_sync
            loss = self.optimizer.scale_loss(terms["loss"] / replicas)
        grads = tape.gradient(loss, self.trainable_weights)
        self.optimizer.apply(grads, self.trainable_weights)
        return self._tensorflow_logs(self._record(terms))

    @staticmethod
    def _tensorflow_logs(logs):
        """Keras 3 averages the logs of several workers with ``strategy.reduce(..., axis=0)``,
        which fails on scalars under MultiWorkerMirroredStrategy (tensorflow/tensorflow#72388):
        there, hand it each value with shape (1,), which it reduces to the scalar mean."""
        import tensorflow as tf

        if isinstance(tf.distribute.get_strategy(), tf.distribute.MultiWorkerMirroredStrategy):
            return {name: ops.reshape(value, (1,)) for name, value in logs.items()}
        return logs

    def _train_step_jax(self, state, data):
        import jax

        trainable, non_trainable, optimizer_vars, metric_vars = state

        def loss_fn(trainable):  # a pure function of the weights, as jax.grad needs
            terms, new_non_trainable = self._stateless(self._terms, trainable, non_trainable, data, training=True)
            with keras.StatelessScope(state_mapping=list(zip(self.optimizer.variables, optimizer_vars))):
                loss = self.optimizer.scale_loss(terms["loss"])  # reads the loss scale, if any
            return loss, (terms, new_non_trainable)

        (_, (terms, non_trainable)), grads = jax.value_and_grad(loss_fn, has_aux=True)(trainable)
        trainable, optimizer_vars = self.optimizer.stateless_apply(optimizer_vars, grads, trainable)
        logs, metric_vars = self._stateless_record(metric_vars, terms)
        return logs, (trainable, non_trainable, optimizer_vars, metric_vars)

    def _train_step_torch(self, data):
        import torch

        self.zero_grad()
        terms = self._terms(data, training=True)
        self.optimizer.scale_loss(terms["loss"]).backward()
        grads = [v.value.grad for v in self.trainable_weights]
        with torch.no_grad():
            self.optimizer.apply(grads, self.trainable_weights)
        return self._record(terms)

    def test_step(self, *args):
        if keras.backend.backend() == "jax":
            (trainable, non_trainable, metric_vars), data = args
            terms, non_trainable = self._stateless(self._terms, trainable, non_trainable, data, training=False)
            logs, metric_vars = self._stateless_record(metric_vars, terms)
            return logs, (trainable, non_trainable, metric_vars)
        logs = self._record(self._terms(args[0], training=False))
        return self._tensorflow_logs(logs) if keras.backend.backend() == "tensorflow" else logs

    # ---- JAX: run a method on given variable values, and return the updated ones ---------------
    def _stateless(self, fn, trainable, non_trainable, *args, **kwargs):
        mapping = list(zip(self.trainable_variables, trainable)) + list(zip(self.non_trainable_variables, non_trainable))
        with keras.StatelessScope(state_mapping=mapping, collect_losses=True) as scope:
            out = fn(*args, **kwargs)
        return out, [scope.get_current_value(v) for v in self.non_trainable_variables]

    def _stateless_record(self, metric_vars, terms):
        mapping = list(zip(self.metrics_variables, metric_vars))
        with keras.StatelessScope(state_mapping=mapping) as scope:
            logs = self._record(terms)
        return logs, [scope.get_current_value(v) for v in self.metrics_variables]
