"""keras-lmu layers as :class:`.LMU` networks (imports TensorFlow when used)."""

import numpy as np
import nengo

from . import validation

#: hidden-cell activations with a Nengo neuron type computing the same function
ACTIVATIONS = {"relu": nengo.RectifiedLinear(), "tanh": nengo.Tanh(tau_ref=1.0)}


def _refuse(message):
    return validation.error(message, "layer", where="from_keras")


def from_keras(layer, dt=0.001, neuron_type=None, lmu_class=None, **kwargs):
    """The :class:`.LMU` network equivalent to a built keras-lmu 0.7 ``LMU`` layer.

    Supports ``memory_d``, ``order``, ``theta`` (steps; becomes ``theta * dt``
    seconds), ``hidden_to_memory``, ``memory_to_memory``, ``input_to_hidden``,
    the input kernel (or none), ``discretizer="zoh"`` and a hidden cell that is a
    ``Dense`` or ``SimpleRNNCell`` with ``relu`` or ``tanh`` activation. The keras output
    is the network's ``output`` (``h``).

    Parameters
    ----------
    layer : keras_lmu.LMU
        A built layer (call it on data or ``build`` it first).
    dt : float
        Seconds per sample in the Nengo network.
    neuron_type : NeuronType or None
        Overrides the neuron type matching the cell's activation.
    lmu_class : type or None
        The class built (default :class:`.LMU`; :meth:`.LMU.from_keras` passes its own).
    **kwargs
        Passed to the constructor (``seed``, ``label``, ``firing_rate_scale`` ...).
    """
    import tensorflow as tf  # only when importing from keras

    from .lmu import LMU

    value = tf.keras.backend.get_value
    name = type(layer).__name__
    if name != "LMU" or not hasattr(layer, "memory_d"):
        raise _refuse(f"must be a keras_lmu.LMU layer (got {name})")
    if not layer.built:
        raise _refuse("must be built (call it on data first)")
    unsupported = {
        "trainable_theta": layer.trainable_theta,
        "use_bias": layer.use_bias,
        "discretizer='euler'": layer.discretizer != "zoh",
        "hidden_cell=None": layer.hidden_cell is None,
    }
    bad = [k for k, v in unsupported.items() if v]
    if bad:
        raise _refuse(f"unsupported keras-lmu options: {bad}")
    inner = getattr(layer.layer, "cell", layer.layer)
    cell = layer.hidden_cell
    if neuron_type is None:
        activation = getattr(cell, "activation", None)
        activation = getattr(activation, "__name__", str(activation))
        if activation not in ACTIVATIONS:
            raise _refuse(f"hidden activation {activation!r} has no Nengo neuron type; pass neuron_type")
        neuron_type = ACTIVATIONS[activation]
    if isinstance(cell, tf.keras.layers.SimpleRNNCell):
        hidden_to_hidden = True
    elif isinstance(cell, tf.keras.layers.Dense):
        hidden_to_hidden = False
    else:
        raise _refuse(f"hidden cell must be Dense or SimpleRNNCell (got {type(cell).__name__})")
    if inner.kernel is None and layer.hidden_to_memory:
        raise _refuse("hidden_to_memory without an input kernel is not supported")

    bias = value(cell.bias) if getattr(cell, "use_bias", True) else np.zeros(cell.units)
    W = value(cell.kernel).T  # (units, memory [+ input])
    mem_size = layer.memory_d * layer.order
    input_dimensions = int(inner.kernel.shape[0]) if inner.kernel is not None else layer.memory_d
    if layer.hidden_to_memory:
        input_dimensions -= cell.units
    params = {"W_m": W[:, :mem_size], "b": bias}
    if layer.input_to_hidden:
        params["W_x"] = W[:, mem_size:]
    if hidden_to_hidden:
        params["W_h"] = value(cell.recurrent_kernel).T
    if inner.kernel is not None:
        K = value(inner.kernel).T  # (memory_d, input [+ units])
        params["e_x"] = K[:, :input_dimensions]
        if layer.hidden_to_memory:
            params["e_h"] = K[:, input_dimensions:]
    if layer.memory_to_memory:
        params["e_m"] = value(inner.recurrent_kernel).T
    return (lmu_class or LMU)(
        units=cell.units,
        order=layer.order,
        theta=float(layer.theta) * dt,
        input_dimensions=input_dimensions,
        memory_d=layer.memory_d,
        neuron_type=neuron_type,
        input_encoders=inner.kernel is not None,
        hidden_to_memory=layer.hidden_to_memory,
        memory_to_memory=layer.memory_to_memory,
        input_to_hidden=layer.input_to_hidden,
        hidden_to_hidden=hidden_to_hidden,
        dt=dt,
        params=params,
        **kwargs,
    )
