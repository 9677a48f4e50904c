"""Parameter files: an LMU's trained values, safe to read from anyone.

A parameter file is an ``.npz`` (a zip of ``.npy`` members, no pickle) holding

``__signature__``
    JSON: every value that changes what the parameters mean (sizes, window in steps,
    ``dt``, paths, discretizer, neuron type, ...), with the shape of every parameter;
    see :meth:`.LMU.signature`.
``__metadata__`` (optional)
    JSON: what the user attached (``{"task": "psmnist"}``).
one member per parameter
    ``e_x``, ``W_m``, ``b`` ..., float arrays; every parameter the signature's network
    has is required.

Reading trusts nothing in the file: the signature is read first (its size bounded), the
expected shape of every parameter is derived from it, and each member's shape and dtype
are checked from its ``.npy`` header, and its stored size from the zip directory, before
its data is inflated. Every problem is one ``ValidationError`` naming the file.

Files of the first format (``__signature__`` without ``version``, the window in a
``__theta__`` member, no ``dt``) are still read; their missing fields are ``None``.
Writes are atomic (:func:`nengo_lmu.io.write_atomic`).
"""

import json
import os
import zipfile
import zlib
from collections import namedtuple

import numpy as np
from nengo.exceptions import ValidationError

from . import io, validation

#: the format written by :func:`write`; files without a version are format 1
FORMAT_VERSION = 2
SIGNATURE = "__signature__"
METADATA = "__metadata__"
LEGACY_THETA = "__theta__"  # format 1: the window in steps
#: what a signature of the present format holds (:meth:`.LMU.signature` writes it)
FIELDS = ("version", "units", "order", "theta_steps", "dt", "input_dimensions", "memory_d",
          "output_dimensions", "paths", "discretizer", "neuron_type", "firing_rate_scale", "params")
#: the largest JSON member (signature, metadata) read, in bytes
MAX_TEXT_BYTES = 1 << 20
#: the largest parameter member read, in bytes (2**28: a 8192 x 4096 float64 kernel)
MAX_PARAM_BYTES = 1 << 28
#: room for an ``.npy`` header in a member
MAX_HEADER_BYTES = 1 << 16

ParamFile = namedtuple("ParamFile", "signature params metadata")
ParamFile.__doc__ = "What :func:`read` returns: signature and metadata (dicts), params (name -> ndarray)."


def write(path, signature, params, metadata=None, overwrite=False, new_name=False, obj=None):
    """Write a parameter file atomically; return the path written.

    An existing ``path`` is replaced only with ``overwrite``; with ``new_name`` it is
    kept and the first free ``name-k.npz`` is taken instead (:func:`nengo_lmu.io.write_new`).
    """
    if metadata is not None and not isinstance(metadata, dict):
        raise validation.error(f"must be a dict or None (got {type(metadata).__name__})", "metadata", obj)
    members = {SIGNATURE: np.array(_json(signature, "signature", obj))}
    if metadata is not None:
        members[METADATA] = np.array(_json(metadata, "metadata", obj))
    members.update(params)
    def write_members(f):
        np.savez(f, **members)

    if new_name and not overwrite:
        return io.write_new(path, write_members)
    return io.write_atomic(path, write_members, overwrite=overwrite)


def _json(value, attr, obj):
    try:
        return json.dumps(value, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise validation.error(f"must be JSON-serialisable ({e})", attr, obj) from None


def read(path, expected_shapes, obj=None):
    """Read and check a parameter file: a :data:`ParamFile`.

    ``expected_shapes(signature)`` gives ``name -> shape`` of every parameter the
    signature's network has (raising ``ValidationError`` for a signature that makes no
    network); the file must hold exactly these, as float arrays of these shapes.
    """
    name = os.fspath(path)
    try:
        with zipfile.ZipFile(name) as archive:
            return _read(archive, expected_shapes)
    except FileNotFoundError:
        raise validation.error(f"no such file '{name}'", "path", obj) from None
    except ValidationError as e:  # raised below with the file's name left out
        what = e.args[0]
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as e:
        what = f"is not an .npz file, or is damaged ({e})"
    except OSError as e:
        what = f"cannot be read ({e.strerror or e})"
    raise validation.error(f"'{name}' {what}", "path", obj)


def _read(archive, expected_shapes):
    infos = {}
    for info in archive.infolist():
        if not info.filename.endswith(".npy"):
            raise validation.error(f"is not an .npz file (member {info.filename!r})", "path")
        infos[info.filename[: -len(".npy")]] = info
    if SIGNATURE not in infos:
        raise validation.error("is not an LMU parameter file (no signature)", "path")
    signature = _read_json(archive, infos.pop(SIGNATURE))
    if "version" not in signature:
        signature = _legacy_signature(signature, archive, infos.pop(LEGACY_THETA, None))
    elif signature["version"] != FORMAT_VERSION:
        raise validation.error(f"has format version {signature['version']!r} (this reads {FORMAT_VERSION})", "path")
    lacking = [k for k in FIELDS if k not in signature]
    if lacking:
        raise validation.error(f"has a signature lacking {lacking}", "path")
    metadata = _read_json(archive, infos.pop(METADATA)) if METADATA in infos else {}
    try:
        shapes = expected_shapes(signature)
    except ValidationError as e:
        raise validation.error(f"has a signature that makes no network ({e})", "path") from None
    if signature.get("params") != {k: list(v) for k, v in shapes.items()}:
        raise validation.error(
            f"declares parameters {signature.get('params')} where its network has "
            f"{ {k: list(v) for k, v in shapes.items()} }",
            "path",
        )
    missing = sorted(set(shapes) - set(infos))
    unknown = sorted(set(infos) - set(shapes))
    if missing or unknown:
        what = ([f"lacks parameter(s) {missing}"] if missing else []) + (
            [f"has unknown member(s) {unknown}"] if unknown else []
        )
        raise validation.error(" and ".join(what), "path")
    params = {k: _read_member(archive, infos[k], "f", shapes[k]) for k in shapes}
    return ParamFile(signature, params, metadata)


def _read_json(archive, info):
    text = str(_read_member(archive, info, "U", ()))
    try:
        value = json.loads(text)
    except ValueError as e:
        raise validation.error(f"member {_member(info)} is not valid JSON ({e})", "path") from None
    if not isinstance(value, dict):
        raise validation.error(f"member {_member(info)} is not a JSON object", "path")
    return value


def _legacy_signature(signature, archive, theta_info):
    """A format-1 signature in the present format's terms (unknown fields ``None``)."""
    if theta_info is None:
        raise validation.error("is not an LMU parameter file (no window __theta__)", "path")
    theta_steps = float(_read_member(archive, theta_info, "f", ()))
    # format 1 recorded the paths only as the parameters present (paths None)
    return dict(signature, version=1, theta_steps=theta_steps, dt=None, paths=None, discretizer="zoh",
                neuron_type=None, firing_rate_scale=None)


def _member(info):
    return repr(info.filename[: -len(".npy")])


def _read_member(archive, info, kind, shape):
    """A member's array, its header checked (``kind``: dtype kind, ``shape``) before its data."""
    name = _member(info)
    limit = MAX_TEXT_BYTES if kind == "U" else MAX_PARAM_BYTES
    if info.file_size > limit + MAX_HEADER_BYTES:
        raise validation.error(f"member {name} is oversized ({info.file_size} bytes; at most {limit})", "path")
    with archive.open(info) as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            header = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            header = np.lib.format.read_array_header_2_0(f)
        else:
            raise validation.error(f"member {name} has unsupported .npy version {version}", "path")
        found_shape, fortran, dtype = header
        if dtype.hasobject:
            raise validation.error(f"member {name} holds pickled objects (refused)", "path")
        if dtype.kind != kind or (kind == "f" and dtype.itemsize not in (4, 8)):
            raise validation.error(f"member {name} has dtype {dtype} (expected {'text' if kind == 'U' else 'float'})", "path")
        if kind == "f" and tuple(found_shape) != tuple(shape) or kind == "U" and found_shape != ():
            raise validation.error(f"member {name} has shape {found_shape} (expected {tuple(shape)})", "path")
        n_bytes = int(np.prod(found_shape, dtype=np.int64)) * dtype.itemsize
        if n_bytes > limit or info.file_size != f.tell() + n_bytes:
            raise validation.error(
                f"member {name} is {'oversized' if info.file_size > f.tell() + n_bytes else 'truncated'} "
                f"({info.file_size} bytes stored for {n_bytes} bytes of data)",
                "path",
            )
        data = f.read(n_bytes)
    if len(data) != n_bytes:
        raise validation.error(f"member {name} is truncated", "path")
    array = np.frombuffer(data, dtype=dtype).reshape(found_shape, order="F" if fortran else "C")
    return array.astype(float) if kind == "f" else array[()]


def differences(saved, expected):
    """Names of the signature fields where ``saved`` differs from ``expected``.

    A field ``saved`` does not record (``None``, format 1) is not compared.
    """
    keys = sorted(set(saved) | set(expected))
    return [k for k in keys if saved.get(k) is not None and saved.get(k) != expected.get(k)]
