"""Writing files so that nothing a user saved is lost or overwritten silently.

Every file the library writes (parameter files, JSON results, figures) goes through
:func:`write_atomic`: the content is written to a temporary file in the target's own
directory and then moved into place in one step, so an interrupted write leaves either
the old file or the new one, never a truncated one. An existing file is replaced only
with ``overwrite=True``; otherwise :func:`write_atomic` refuses, and :func:`write_new`
takes the first free name ``name-1.ext``, ``name-2.ext``..., claimed exclusively (two runs
writing at once never pick the same name).
"""

import errno
import os
import tempfile

from nengo.exceptions import ValidationError

#: how many ``-k`` suffixes :func:`write_new` tries before giving up
MAX_SUFFIX = 10_000


def check_output_dir(path, attr="out_dir"):
    """Refuse, before any work, a directory that cannot be created or written.

    Creates it (with its parents) if it does not exist, and checks that a file can be
    made in it. Raises ``ValidationError`` naming ``attr``.
    """
    path = os.fspath(path)
    if os.path.exists(path) and not os.path.isdir(path):
        raise ValidationError(f"{path!r} exists and is not a directory", attr)
    try:
        os.makedirs(path, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".nengo_lmu-check-"):
            pass
    except OSError as e:
        raise ValidationError(f"cannot write into {path!r} ({e.strerror or e})", attr) from None
    return path


def check_output_file(path, overwrite=False, attr="path"):
    """Refuse, before any work, a file path that exists (unless ``overwrite``) or whose
    directory cannot be written."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise ValidationError(f"{path!r} is a directory, not a file name", attr)
    if os.path.exists(path) and not overwrite:
        raise ValidationError(f"{path!r} exists; pass overwrite=True to replace it", attr)
    check_output_dir(os.path.dirname(os.path.abspath(path)), attr)
    return path


def _write_temp(path, write):
    """``write(file)`` into a temporary file beside ``path``; return its name."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        os.unlink(tmp)
        raise
    return tmp


def write_atomic(path, write, overwrite=False):
    """Write ``path`` with ``write(binary_file)``, atomically; return ``path``.

    With ``overwrite=False`` an existing ``path`` is refused (``ValidationError``), and
    the check and the move are one step (a file that appears meanwhile is not replaced).
    """
    path = os.fspath(path)
    tmp = _write_temp(path, write)
    try:
        if overwrite:
            os.replace(tmp, path)
        else:
            _link_new(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _link_new(tmp, path):
    try:
        os.link(tmp, path)  # fails if path exists: no race between check and move
    except FileExistsError:
        raise ValidationError(f"{path!r} exists; pass overwrite=True to replace it", "path") from None
    except OSError as e:
        if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise
        # a file system without hard links: claim the name exclusively, then replace it
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        os.close(fd)
        os.replace(tmp, path)


def write_new(path, write):
    """Write ``path``, or the first free ``root-k.ext``, atomically; return the name used."""
    path = os.fspath(path)
    root, ext = os.path.splitext(path)
    tmp = _write_temp(path, write)
    try:
        for k in range(MAX_SUFFIX):
            candidate = path if k == 0 else f"{root}-{k}{ext}"
            try:
                _link_new(tmp, candidate)
                return candidate
            except ValidationError:
                continue
        raise ValidationError(f"no free name like {path!r} (tried {MAX_SUFFIX})", "path")
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
