"""The seccomp filter every sandboxed command runs under: system calls that defeat limits.

The worktree's size is watched, not capped by a filesystem quota (it lives on the host's
disk, and a quota needs root and a mount option). A watch bounds ordinary writes by what
the disk takes between two looks, but `fallocate` reserves gigabytes in one call, even
with `FALLOC_FL_KEEP_SIZE`, which leaves the file's size (and so `RLIMIT_FSIZE`) alone.
So the kernel refuses it: it fails with `EOPNOTSUPP`, as on a filesystem without it, and
programs fall back to writing, which the rlimit and the watch do see (glibc's
`posix_fallocate` does so on its own).

The filter is classic BPF, as bubblewrap's `--seccomp FD` takes it: a few instructions
per architecture, assembled here because libseccomp's Python binding is not on PyPI.
Every ABI a process on this machine can call with is covered (x86-64 with its x32 and
i386 entry points, AArch64 with 32-bit ARM); anything else is allowed.
"""

from __future__ import annotations

import errno
import struct

# <linux/filter.h>, <linux/seccomp.h>, <linux/audit.h>
_LD_W_ABS = 0x20
_JEQ_K = 0x15
_RET_K = 0x06
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
_NR_OFFSET = 0  # struct seccomp_data: int nr; __u32 arch; ...
_ARCH_OFFSET = 4
_X32_BIT = 0x40000000

# fallocate's number in each ABI, by AUDIT_ARCH_* value.
REFUSED_BY_ARCH: dict[int, tuple[int, ...]] = {
    0xC000003E: (285, _X32_BIT | 285),  # x86-64 and x32
    0x40000003: (324,),  # i386
    0xC00000B7: (47,),  # AArch64
    0x40000028: (352,),  # ARM EABI
}


def _insn(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def filter_program(
    refused: dict[int, tuple[int, ...]] = REFUSED_BY_ARCH, errno_value: int = errno.EOPNOTSUPP
) -> bytes:
    """The compiled filter: each listed call fails with `errno_value`, all else passes."""
    blocks: list[list[bytes]] = []
    for arch, numbers in refused.items():
        body = [_insn(_LD_W_ABS, _NR_OFFSET)]
        for index, number in enumerate(numbers):
            to_refuse = len(numbers) - index  # past the rest of the checks and the allow
            body.append(_insn(_JEQ_K, number, jt=to_refuse, jf=0))
        body += [_insn(_RET_K, _RET_ALLOW), _insn(_RET_K, _RET_ERRNO | errno_value)]
        # Enter the block only on this architecture; otherwise skip it whole.
        blocks.append([_insn(_JEQ_K, arch, jt=0, jf=len(body)), *body])
    program = []
    for block in blocks:
        program += [_insn(_LD_W_ABS, _ARCH_OFFSET), *block]
    program.append(_insn(_RET_K, _RET_ALLOW))
    return b"".join(program)
