"""Reading and writing SecBuffer descriptors the way SChannel does.

Callers hand in descriptors whose layout may be wrong or hostile; these
helpers never raise on bad layouts: they return None (or False) and the
caller turns that into the Windows status.
"""

from __future__ import annotations

from .. import constants as C
from ..constants import SecStatus
from .types import SecBuffer, SecBufferDesc

TYPE_MASK = ~C.SECBUFFER_ATTRMASK & 0xFFFFFFFF


def buffers(desc: object) -> list[SecBuffer] | None:
    """The first ``cBuffers`` buffers of a descriptor, or None if it is not one.

    Every SSPI call reads its descriptor through here.  A plain list of
    SecBuffers whose count is right (what every caller passes) is returned as
    it is; anything else is checked piece by piece."""
    if type(desc) is SecBufferDesc:
        lst = desc.pBuffers
        if type(lst) is list and desc.cBuffers == len(lst):
            if len(lst) == 4:  # the record calls' descriptor, checked without a loop
                b0, b1, b2, b3 = lst
                if (
                    type(b0) is SecBuffer
                    and type(b1) is SecBuffer
                    and type(b2) is SecBuffer
                    and type(b3) is SecBuffer
                ):
                    return lst
            else:
                for b in lst:
                    if type(b) is not SecBuffer:
                        break
                else:
                    return lst
    if not isinstance(desc, SecBufferDesc):
        return None
    lst = desc.pBuffers
    if not isinstance(lst, (list, tuple)):
        return None
    count = desc.cBuffers if isinstance(desc.cBuffers, int) else len(lst)
    if count < 0:
        return None
    out = list(lst[:count])
    if len(out) < count:
        return None
    for b in out:
        if type(b) is not SecBuffer and not isinstance(b, SecBuffer):
            return None
    return out


def btype(buf: SecBuffer) -> int:
    """A buffer's type without the READONLY attribute bits."""
    t = buf.BufferType
    if type(t) is int:
        return t & TYPE_MASK
    return int(t) & TYPE_MASK if isinstance(t, int) else -1


def size(buf: SecBuffer) -> int:
    return int(buf.cbBuffer) if isinstance(buf.cbBuffer, int) and buf.cbBuffer > 0 else 0


def data(buf: SecBuffer) -> memoryview | None:
    """A read-only view of the buffer's first cbBuffer bytes; None if the buffer lies about its size."""
    pv = buf.pvBuffer
    n = size(buf)
    if pv is None:
        return memoryview(b"") if n == 0 else None
    if not isinstance(pv, (bytes, bytearray, memoryview)):
        return None
    if isinstance(pv, memoryview) and not _flat(pv):
        return None  # memory a C caller could not pass: a layout error, nothing consumed
    view = (
        memoryview(pv).cast("B")
        if isinstance(pv, memoryview) and pv.format != "B"
        else memoryview(pv)
    )
    if n > view.nbytes:
        return None
    return view[:n]


def plain(view: memoryview) -> bool:
    """A writable, one-dimensional, contiguous byte view: what :func:`writable` returns
    as it is (the record calls use such a view without asking it)."""
    return not view.readonly and view.ndim == 1 and view.c_contiguous and view.format == "B"


def writable(buf: SecBuffer) -> memoryview | None:
    """A writable byte view of the buffer's memory, if the caller gave writable memory
    that a pointer and a length could describe (one-dimensional, contiguous)."""
    pv = buf.pvBuffer
    if type(pv) is bytearray:
        return memoryview(pv)
    if type(pv) is memoryview:
        if plain(pv):
            return pv
        if pv.readonly or pv.ndim != 1 or not pv.c_contiguous:
            return None
        return pv.cast("B")
    if isinstance(pv, bytearray):
        return memoryview(pv)
    if isinstance(pv, memoryview) and not pv.readonly and _flat(pv):
        return pv.cast("B") if pv.format != "B" else pv
    return None


def _flat(view: memoryview) -> bool:
    """One-dimensional, contiguous memory: what a pointer and a length describe."""
    return view.ndim == 1 and view.c_contiguous


def find(bufs: list[SecBuffer], btype_value: int) -> int:
    """Index of the first buffer of a type, or -1."""
    for i, b in enumerate(bufs):
        if btype(b) == btype_value:
            return i
    return -1


def put_output(buf: SecBuffer, payload: bytes, allocate: bool) -> bool:
    """Deliver ``payload`` into an output buffer, allocating when SChannel would.

    With ALLOCATE_MEMORY, or when the caller passed no memory, the package
    allocates a fresh bytearray (the caller's pointer is ignored, as observed
    on Windows).  Otherwise the bytes go into the caller's memory, which must
    be large enough.
    """
    target = None if allocate else writable(buf)
    if target is None:
        if not allocate and buf.pvBuffer is not None and payload and size(buf) < len(payload):
            return False
        buf.pvBuffer = bytearray(payload)
        buf.cbBuffer = len(payload)
        return True
    if len(payload) > min(size(buf), target.nbytes):
        return False
    target[: len(payload)] = payload
    buf.cbBuffer = len(payload)
    return True


def output_buffers(pOutput: object, req: int) -> tuple[list[SecBuffer], int] | SecStatus:
    """Validate the output descriptor: (buffers, index of the token buffer)."""
    out = buffers(pOutput)
    if not out:
        return C.SEC_E_INVALID_TOKEN
    tok = -1
    unsized = False  # a TOKEN or ALERT buffer without memory, and nothing allocated
    allocate = req & C.ISC_REQ_ALLOCATE_MEMORY
    for i, b in enumerate(out):
        t = btype(b)
        if t == C.SECBUFFER_TOKEN or t == C.SECBUFFER_EMPTY:
            if tok < 0:
                tok = i
        elif t != C.SECBUFFER_ALERT:
            continue
        if not allocate and t != C.SECBUFFER_EMPTY and size(b) == 0:
            unsized = True
    if tok < 0:
        return C.SEC_E_INVALID_TOKEN
    if unsized:
        return C.SEC_E_INSUFFICIENT_MEMORY
    return out, tok


def deliver(out: list[SecBuffer], tok: int, payload: bytes, allocate: bool) -> bool:
    """Write the token, retyping an EMPTY output buffer to TOKEN; clear the ALERT buffer."""
    buf = out[tok]
    if not put_output(buf, payload, allocate):
        buf.cbBuffer = 0
        return False
    buf.BufferType = C.SECBUFFER_TOKEN
    for b in out:
        if btype(b) == C.SECBUFFER_ALERT:
            b.cbBuffer = 0
    return True
