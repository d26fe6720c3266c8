"""Confinement of student code: a private view of the machine, no network, limits.

Every process that runs student code (the sandbox child of `instructor.infrastructure.sandbox` and
the Jupyter kernel that executes a notebook for its feedback) confines itself before any student
code runs. What it then sees is a `View`, built from nothing:

- the system's programs and libraries (/usr, /etc, /lib...), the Python environment (its prefix,
  standard library and site-packages) and the `helpers` package, all read-only;
- a private scratch folder (also mounted at /tmp), the only place it can write;
- a fresh /proc that shows only its own processes, a few devices, an empty /dev/shm;
- no network at all (a network namespace of its own: not even the loopback interface);
- System V and POSIX IPC of its own (an IPC namespace, capped at `IPC_LIMITS`): no other job
  sees what it makes there, and it all goes when the process tree ends.

Its processes end with it: student code runs as pid 2 of its PID namespace, whose pid 1 is a
trusted init that runs no student code and dies with the launcher the grader stops
(`_serve_as_init`); the kernel then ends every process of the namespace, however they detached
themselves. `instructor.infrastructure.reaper` checks after each job that none survived.

Everything else does not exist for it: the course folder (`solutions/`, other students'
`submitted/` and `autograded/` files, `feedback/`, the gradebook, nbgrader_config.py), the
instructor's home, /tmp, other checkouts. With `View.allow_torch` False, torch's own folders are
replaced by a package whose import fails, so an exercise graded as "written with numpy" cannot
reach torch however it is imported (and the process that runs it never imported it).

How, by who grades:
- **root** (a grading server, CI): new mount, PID and network namespaces, the view put in place
  with `pivot_root`, then the process becomes `nobody` for good (it can read only world-readable
  files of the view and can never remount anything).
- **any other user**: the same inside a user namespace of its own, whose mounts are then locked by
  a second user namespace (no remount can undo the read-only flags from inside).
- **no namespaces** (some containers): a root grader switches student code to `nobody`, which
  then sees what `nobody` may read (with PID and IPC namespaces and the same init where the
  machine allows those alone); without root either, student code runs as the grader's user
  and `instructor.coordinator.autograde` restores and reports any change to the course's own files.
  There, IPC is the machine's, and a process that leaves its session is stopped only by the check
  after the job (`instructor.infrastructure.reaper`). `mode()` says which applies; grading reports
  anything short of a private view.

Limits on memory, file size, processes and core dumps apply in every case.

`python -m instructor.infrastructure.confine --scratch DIR -- KERNEL ARGV` is the kernel launcher.
"""

from __future__ import annotations

import ctypes
import enum
import errno
import functools
import importlib.util
import os
import platform
import pwd
import resource
import shutil
import signal
import site
import struct
import sys
import sysconfig
import tempfile
from dataclasses import dataclass, field

SANDBOX_USER = "nobody"
FILE_SIZE_LIMIT = 256 * 2**20
PROCESS_LIMIT = 4096
KERNEL_MEMORY = 8 * 2**30
SCRATCH_PREFIX = "rnn-course-sandbox-"
# The variables torch and the BLAS libraries read for their thread counts.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
# What a confined process sees of the system besides the Python environment.
SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/sys")
DEVICES = ("null", "zero", "full", "random", "urandom")
TORCH_PACKAGES = ("torch", "functorch", "torchgen")
NO_TORCH = (
    'raise ImportError("torch is not available here: this exercise is graded as code '
    'written from scratch with numpy")\n'
)

_CLONE_NEWNS, _CLONE_NEWIPC, _CLONE_NEWUSER, _CLONE_NEWPID, _CLONE_NEWNET = (
    0x20000,
    0x8000000,
    0x10000000,
    0x20000000,
    0x40000000,
)
# What student code may hold in System V and POSIX IPC objects, all of its processes together:
# the limits of its own IPC namespace, set before it runs (the objects die with the namespace).
IPC_SHM_BYTES = 64 * 2**20
IPC_LIMITS = {
    "kernel/shmmax": str(IPC_SHM_BYTES),
    "kernel/shmall": str(IPC_SHM_BYTES // os.sysconf("SC_PAGE_SIZE")),
    "kernel/shmmni": "64",
    "kernel/msgmni": "16",
    "kernel/msgmnb": "16384",
    "kernel/sem": "64 1024 32 16",
    "fs/mqueue/queues_max": "16",
}
_MS_NOSUID, _MS_NODEV, _MS_NOEXEC, _MS_BIND, _MS_REC, _MS_PRIVATE = 2, 4, 8, 4096, 16384, 1 << 18
_MNT_DETACH = 2
_AT_FDCWD, _AT_RECURSIVE, _MOUNT_ATTR_RDONLY = -100, 0x8000, 1
_SYS_MOUNT_SETATTR = 442  # the same number on x86_64 and aarch64
_SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}.get(platform.machine(), 155)
_PR_SET_PDEATHSIG, _PR_SET_DUMPABLE, _PR_SET_NO_NEW_PRIVS = 1, 4, 38
_PR_SET_CHILD_SUBREAPER = 36
_libc = ctypes.CDLL(None, use_errno=True)


class Mode(enum.Enum):
    """How student code is confined on this machine (see the module docstring)."""

    ROOT_NAMESPACES = "a private view of the machine, as the nobody user"
    USER_NAMESPACES = "a private view of the machine, in a user namespace"
    NOBODY = "the nobody user, without a private view (it can read what nobody can)"
    NONE = "nothing: it runs with the grader's own permissions"

    @property
    def private(self) -> bool:
        """True when confined code sees only its `View`."""
        return self in (Mode.ROOT_NAMESPACES, Mode.USER_NAMESPACES)


@dataclass(frozen=True)
class View:
    """What a confined process may see. scratch: its private read-write folder; readable:
    read-only paths beyond the system's (the Python environment, `helpers`); allow_torch:
    False hides torch."""

    scratch: str
    readable: tuple[str, ...] = field(default_factory=lambda: python_paths())
    allow_torch: bool = True


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _mount(
    source: str, target: str, fstype: str | None, flags: int, data: str | None = None
) -> None:
    _check(
        _libc.mount(
            source.encode(),
            target.encode(),
            fstype.encode() if fstype else None,
            flags,
            data.encode() if data else None,
        ),
        f"mount {source} on {target}",
    )


def _set_mount_readonly(path: str, readonly: bool, recursive: bool) -> None:
    attr = struct.pack(
        "QQQQ", _MOUNT_ATTR_RDONLY if readonly else 0, 0 if readonly else _MOUNT_ATTR_RDONLY, 0, 0
    )
    buffer = ctypes.create_string_buffer(attr, len(attr))
    _check(
        _libc.syscall(
            _SYS_MOUNT_SETATTR,
            _AT_FDCWD,
            path.encode(),
            _AT_RECURSIVE if recursive else 0,
            buffer,
            len(attr),
        ),
        f"mount_setattr {path}",
    )


# ------------------------------------------------------------------------------ the view


def _outermost(paths: list[str]) -> list[str]:
    """Existing real paths, without any that lies inside another one."""
    real = sorted({os.path.realpath(p) for p in paths if p and os.path.exists(p)})
    kept: list[str] = []
    for path in real:
        if not any(path == k or path.startswith(k.rstrip("/") + "/") for k in kept):
            kept.append(path)
    return kept


def python_paths() -> tuple[str, ...]:
    """The Python environment a confined process needs: the prefixes, the standard library,
    site-packages and the `helpers` package (wherever it is installed). Never the folders that
    merely hold them (a checkout's other files stay hidden)."""
    paths = [sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix]
    paths += [p for name, p in sysconfig.get_paths().items() if name != "include"]
    paths += site.getsitepackages()
    if site.ENABLE_USER_SITE:
        paths.append(site.getusersitepackages())
    spec = importlib.util.find_spec("helpers")
    if spec is not None and spec.submodule_search_locations:
        paths += list(spec.submodule_search_locations)
    return tuple(_outermost(paths))


def torch_folders() -> list[str]:
    """The folders of torch and its companion packages (found, never imported)."""
    found = []
    for name in TORCH_PACKAGES:
        spec = (
            importlib.util.find_spec(name)
            if name not in sys.modules
            else sys.modules[name].__spec__
        )
        if spec is not None and spec.submodule_search_locations:
            found += [os.path.realpath(p) for p in spec.submodule_search_locations]
    return found


def _bind(new_root: str, path: str, recursive: bool = True) -> None:
    """Mount `path` at the same place inside `new_root` (read-only comes later)."""
    target = new_root + path
    if os.path.isdir(path):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o644))
    _mount(path, target, None, _MS_BIND | (_MS_REC if recursive else 0))


def _build_view(view: View) -> None:
    """Replace this process's root by `view` (needs CAP_SYS_ADMIN in its mount namespace)."""
    _mount("none", "/", None, _MS_REC | _MS_PRIVATE)
    new_root = os.path.join(view.scratch, ".view")
    os.makedirs(new_root, exist_ok=True)
    _mount("tmpfs", new_root, "tmpfs", _MS_NOSUID | _MS_NODEV, "size=16m,mode=0755")
    # A fresh /tmp first, so that a Python environment or a scratch folder under the real /tmp
    # is bound on top of it rather than hidden beneath it.
    os.makedirs(new_root + "/tmp", exist_ok=True)
    _mount("tmpfs", new_root + "/tmp", "tmpfs", _MS_NOSUID | _MS_NODEV, "size=256m,mode=1777")
    for path in SYSTEM_PATHS:
        if os.path.islink(path):
            os.symlink(os.readlink(path), new_root + path)
        elif os.path.exists(path):
            _bind(new_root, path)
    for path in view.readable:
        _bind(new_root, path)
    os.makedirs(new_root + "/dev", exist_ok=True)
    for device in DEVICES:
        if os.path.exists(f"/dev/{device}"):
            _bind(new_root, f"/dev/{device}", recursive=False)
    for name, target in (
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ):
        os.symlink(target, f"{new_root}/dev/{name}")
    os.makedirs(new_root + "/dev/shm")
    _mount("tmpfs", new_root + "/dev/shm", "tmpfs", _MS_NOSUID | _MS_NODEV, "size=64m,mode=1777")
    os.makedirs(new_root + "/proc")
    _mount("proc", new_root + "/proc", "proc", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC)
    _bind(new_root, view.scratch, recursive=False)
    if not view.allow_torch:
        for folder in torch_folders():
            if os.path.isdir(new_root + folder):
                _mount(
                    "tmpfs",
                    new_root + folder,
                    "tmpfs",
                    _MS_NOSUID | _MS_NODEV,
                    "size=64k,mode=0755",
                )
                with open(os.path.join(new_root + folder, "__init__.py"), "w") as f:
                    f.write(NO_TORCH)
    os.chdir(new_root)
    _check(_libc.syscall(_SYS_PIVOT_ROOT, b".", b"."), "pivot_root")  # old root stacks below
    _check(_libc.umount2(b".", _MNT_DETACH), "detach the old root")
    os.chdir("/")
    _set_mount_readonly("/", True, recursive=True)
    for writable in (view.scratch, "/tmp", "/dev/shm"):
        _set_mount_readonly(writable, False, recursive=False)


def _limit_ipc() -> bool:
    """Cap this process's (fresh) IPC namespace at `IPC_LIMITS`; False where the kernel would
    not let it (the namespace is still its own, and still ends with it)."""
    try:
        for name, value in IPC_LIMITS.items():
            with open(f"/proc/sys/{name}", "w") as f:
                f.write(value)
    except OSError:
        return False
    return True


def _stay_behind(child: int) -> None:
    """The launcher's part once `child` runs in the new namespaces: wait for it and exit with
    its status (interrupts go to the whole process group; the child handles them)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _, status = os.waitpid(child, 0)
    os._exit(os.waitstatus_to_exitcode(status) % 256)


def _serve_as_init(student: int) -> None:
    """Pid 1 of the job's PID namespace: reap every process there until `student` ends, then
    exit with its status. Never returns.

    It runs no student code, holds the parent-death signal that ties it to its launcher, and is
    unreachable from inside (a namespace's init gets no signal it has no handler for, and is not
    dumpable, so it cannot be traced): when the launcher dies, it dies, and with it every
    process of the namespace, however those processes left their session or cleared their own
    parent-death signal."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    code = 1
    try:
        while True:
            pid, status = os.waitpid(-1, 0)
            if pid == student:
                code = os.waitstatus_to_exitcode(status) % 256
                break
    finally:
        os._exit(code)


def _enter_namespaces(view: View, as_nobody: bool) -> None:
    """Continue in a new process whose root is `view`, in fresh mount, PID, network and IPC
    namespaces (and a user namespace unless `as_nobody`). Three processes: the caller stays
    behind as the launcher, waiting; a trusted init, pid 1 of the new PID namespace, dies with
    the launcher (`_serve_as_init`); the process that returns from here runs the student's code,
    as pid 2. Must be called from a single-threaded process."""
    uid, gid = os.getuid(), os.getgid()
    flags = _CLONE_NEWNS | _CLONE_NEWPID | _CLONE_NEWNET | _CLONE_NEWIPC
    _check(_libc.unshare(flags if as_nobody else flags | _CLONE_NEWUSER), "unshare")
    if not as_nobody:
        for name, text in (
            ("setgroups", "deny"),
            ("uid_map", f"0 {uid} 1"),
            ("gid_map", f"0 {gid} 1"),
        ):
            with open(f"/proc/self/{name}", "w") as f:
                f.write(text)
    child = os.fork()
    if child:
        _stay_behind(child)
    die_with_parent()  # the launcher's death ends the namespace: this is its init
    _limit_ipc()
    _build_view(view)
    _libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    student = os.fork()
    if student:
        _serve_as_init(student)
    if as_nobody:
        _become(_nobody())  # which leaves it undumpable, as the init is
    else:  # a second user namespace locks every mount flag: no remount can undo it from inside
        _check(_libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNS), "lock mounts")
        _libc.prctl(_PR_SET_DUMPABLE, 1, 0, 0, 0)  # as before the init was forked
    die_with_parent()
    os.chdir(view.scratch)


def _enter_process_namespaces() -> bool:
    """Where no view can be built (`Mode.NOBODY`): PID and IPC namespaces alone, where this
    machine allows them, with the same trusted init as `_enter_namespaces` (the caller stays
    behind as the launcher; the process that returns runs the student's code). False, and
    nothing changed, where it does not allow them."""
    if _libc.unshare(_CLONE_NEWPID | _CLONE_NEWIPC) != 0:
        return False
    child = os.fork()
    if child:
        _stay_behind(child)
    die_with_parent()
    _limit_ipc()
    _libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    student = os.fork()
    if student:
        _serve_as_init(student)
    return True


# ------------------------------------------------------------------------------ users, modes


def _nobody() -> tuple[int, int]:
    entry = pwd.getpwnam(SANDBOX_USER)
    return entry.pw_uid, entry.pw_gid


def sandbox_ids() -> tuple[int, int] | None:
    """(uid, gid) to run student code as, or None when this process cannot switch users."""
    if os.geteuid() != 0:
        return None
    try:
        return _nobody()
    except KeyError:
        return None


def _become(ids: tuple[int, int]) -> None:
    """Switch this process to (uid, gid) for good, with no supplementary groups."""
    os.setgroups([])
    os.setgid(ids[1])
    os.setuid(ids[0])


def _probe(as_nobody: bool) -> bool:
    """True when a view can be built this way here, and confines: a forked child builds one,
    then checks that a folder beside its scratch folder is invisible, that it cannot write into
    the Python environment but can write its scratch folder, and that it can still run Python."""
    scratch = _private_folder(_nobody() if as_nobody else None)
    outside = tempfile.mkdtemp(prefix="rnn-course-probe-")
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            _enter_namespaces(View(scratch), as_nobody)
            try:
                open(os.path.join(sys.prefix, "rnn-course-probe-write"), "w")
            except OSError:
                open(os.path.join(scratch, "probe"), "w").close()
                code = (
                    0 if not os.path.exists(outside) and os.access(sys.executable, os.X_OK) else 1
                )
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    remove_scratch(scratch)
    shutil.rmtree(outside, ignore_errors=True)
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


@functools.cache
def mode() -> Mode:
    """How student code is confined on this machine (probed once per process)."""
    if sys.platform.startswith("linux"):
        if sandbox_ids() is not None and _probe(as_nobody=True):
            return Mode.ROOT_NAMESPACES
        if _probe(as_nobody=False):
            return Mode.USER_NAMESPACES
    if sandbox_ids() is not None:
        return Mode.NOBODY
    return Mode.NONE


def namespaces_available() -> bool:
    """True when confined code gets a private view of the machine."""
    return mode().private


def make_undumpable() -> None:
    """Stop same-user processes from reading this one's memory or /proc/<pid>/root (the
    grader's processes call this; student code then cannot reach into them)."""
    _libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)


def die_with_parent() -> None:
    """Have the kernel kill this process when the thread that started it ends."""
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _scratch_owner() -> tuple[int, int] | None:
    """The (uid, gid) student code runs as when that is not this process's own."""
    return _nobody() if mode() in (Mode.ROOT_NAMESPACES, Mode.NOBODY) else None


def _private_folder(owner: tuple[int, int] | None, parent: str | None = None) -> str:
    path = tempfile.mkdtemp(prefix=SCRATCH_PREFIX, dir=parent)
    if owner is not None:
        os.chown(path, *owner)
    os.chmod(path, 0o700)
    return path


def make_scratch(parent: str | None = None) -> str:
    """A fresh private folder for one piece of student code, owned by the user it will run as.
    parent: where to create it (default: the temporary folder)."""
    return _private_folder(_scratch_owner(), parent)


def seed_font_cache(scratch: str) -> None:
    """Give student code in `scratch` (its MPLCONFIGDIR) this process's matplotlib font list, so
    that a fresh kernel does not rebuild it (0.15-0.3 s each). It lists font files only; where
    there is none to copy, matplotlib builds its own as before."""
    import matplotlib
    from matplotlib import font_manager

    name = f"fontlist-v{font_manager.FontManager.__version__}.json"
    source = os.path.join(matplotlib.get_cachedir(), name)
    if not os.path.isfile(source):
        return
    target = os.path.join(scratch, name)
    shutil.copyfile(source, target)
    owner = _scratch_owner()
    if owner is not None:
        os.chown(target, *owner)


def remove_scratch(path: str) -> None:
    """Delete a scratch folder and whatever student code left in it."""
    shutil.rmtree(path, ignore_errors=True)


def _virtual_memory() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


STUDENT_ENVIRONMENT = (
    "HOME",
    "TMPDIR",
    "MPLCONFIGDIR",
    "IPYTHONDIR",
    "JUPYTER_CONFIG_DIR",
    "JUPYTER_DATA_DIR",
    "JUPYTER_RUNTIME_DIR",
    "XDG_CACHE_HOME",
)
# What student code's environment keeps of the grader's: search paths, locale, thread caps and
# the autograding flag. Nothing else: a grader's variable can hold a secret, or a path into the
# grader's own folders (torch's TORCHINDUCTOR_CACHE_DIR, once the grader's torch has set it).
KEPT_ENVIRONMENT = (
    "PATH",
    "LANG",
    "LANGUAGE",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "PYTHONPATH",
    *THREAD_VARIABLES,
    "NBGRADER_EXECUTION",
)


def thread_environment(threads: int) -> dict[str, str]:
    """The variables that cap torch's and BLAS's threads at `threads`."""
    return {name: str(threads) for name in THREAD_VARIABLES}


def clean_environment(scratch: str) -> dict[str, str]:
    """The environment student code gets: the kept variables of this one, and its home,
    temporary and cache folders in `scratch`."""
    env = {k: os.environ[k] for k in KEPT_ENVIRONMENT if k in os.environ}
    env.update({var: scratch for var in STUDENT_ENVIRONMENT})
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def confine_current_process(view: View, memory_bytes: int) -> Mode:
    """Move into the scratch folder, cap resources, then confine this process for good as
    `mode()` allows (with namespaces it continues as a new process). Returns the mode used.

    memory_bytes: how much more virtual memory the process may map than it holds now.
    """
    os.chdir(view.scratch)
    kept = clean_environment(view.scratch)
    os.environ.clear()
    os.environ.update(kept)
    tempfile.tempdir = view.scratch
    limits = [
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_FSIZE, FILE_SIZE_LIMIT),
        (resource.RLIMIT_NPROC, PROCESS_LIMIT),
    ]
    if memory_bytes:
        limits.append((resource.RLIMIT_AS, _virtual_memory() + memory_bytes))
    for which, value in limits:
        _, hard = resource.getrlimit(which)
        resource.setrlimit(
            which, (value, value if hard == resource.RLIM_INFINITY else min(value, hard))
        )
    used = mode()
    if used.private:
        _enter_namespaces(view, as_nobody=used is Mode.ROOT_NAMESPACES)
    elif used is Mode.NOBODY:
        _enter_process_namespaces()
        _become(_nobody())
        die_with_parent()
    _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)  # no setuid program gives privileges back
    deny_keyrings()
    return used


# The kernel's keyrings are not namespaced by mount, PID, IPC or network namespaces: a key that
# one job's `nobody` adds to nobody's user keyring is there for the next job's code to read, for
# days. Student code gets no keyring at all: add_key, request_key and keyctl fail with EPERM.
_KEYRING_SYSCALLS = {
    0xC000003E: (248, 249, 250),  # AUDIT_ARCH_X86_64: add_key, request_key, keyctl
    0xC00000B7: (217, 218, 219),  # AUDIT_ARCH_AARCH64 (the generic numbers)
}
_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 22, 2
_SECCOMP_RET_ALLOW, _SECCOMP_RET_EPERM = 0x7FFF0000, 0x00050000 | errno.EPERM
_BPF_LD_W_ABS, _BPF_JEQ_K, _BPF_RET_K = 0x20, 0x15, 0x06


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8),
                ("k", ctypes.c_uint32)]  # fmt: skip


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_uint16), ("filter", ctypes.POINTER(_SockFilter))]


def _keyring_filter() -> list[tuple[int, int, int, int]]:
    """A seccomp BPF program, as (code, jt, jf, k) rows: EPERM for the keyring system calls of
    each architecture in _KEYRING_SYSCALLS, every other call allowed."""
    blocks = []
    for arch, numbers in _KEYRING_SYSCALLS.items():
        body = [(_BPF_LD_W_ABS, 0, 0, 0)]  # the system call's number
        body += [(_BPF_JEQ_K, len(numbers) - i, 0, n) for i, n in enumerate(numbers)]
        body.append((_BPF_RET_K, 0, 0, _SECCOMP_RET_ALLOW))
        blocks.append((arch, body))
    program: list[tuple[int, int, int, int]] = []
    deny_at = sum(2 + len(body) for _, body in blocks) + 1  # index of the final EPERM
    for arch, body in blocks:
        start = len(program)
        program.append((_BPF_LD_W_ABS, 0, 0, 4))  # seccomp_data.arch
        program.append((_BPF_JEQ_K, 0, len(body), arch))  # another arch: skip this block
        for code, jt, jf, k in body:
            here = len(program)
            if code == _BPF_JEQ_K:  # a keyring call: jump to the final EPERM
                jt = deny_at - here - 1
            program.append((code, jt, jf, k))
        assert len(program) == start + 2 + len(body)
    program.append((_BPF_RET_K, 0, 0, _SECCOMP_RET_ALLOW))  # an architecture not listed
    program.append((_BPF_RET_K, 0, 0, _SECCOMP_RET_EPERM))
    return program


def deny_keyrings() -> None:
    """Make add_key, request_key and keyctl fail with EPERM in this process and everything it
    starts, for good (a seccomp filter; needs no_new_privs, which the caller has set)."""
    rows = _keyring_filter()
    filters = (_SockFilter * len(rows))(*[_SockFilter(*row) for row in rows])
    program = _SockFprog(len(rows), filters)
    _check(
        _libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(program), 0, 0),
        "install the seccomp filter that denies keyrings",
    )


@functools.cache
def kernel_confinement() -> str | None:
    """None when notebooks may be executed; otherwise why not, in one sentence."""
    used = mode()
    if used.private:
        return None
    if used is Mode.NONE:
        return (
            "this machine offers neither user namespaces nor root, so notebooks would run "
            "with your permissions"
        )
    return nobody_cannot_run()


def student_code_cannot_run() -> str | None:
    """None when confined student code (kernel and sandbox alike) can run here; otherwise why
    not, in one sentence: where it runs as `nobody` without a private view, nobody must be
    able to read the Python environment (a Python under /root, as pyenv installs it, is not)."""
    return nobody_cannot_run() if mode() is Mode.NOBODY else None


@functools.cache
def nobody_cannot_run() -> str | None:
    """None when the nobody user can read and run this Python and the course's packages."""
    import ipykernel

    import helpers

    needed = [
        sys.executable,
        os.path.dirname(helpers.__file__),
        os.path.dirname(ipykernel.__file__),
    ]
    pid = os.fork()
    if pid == 0:
        ok = False
        try:
            _become(_nobody())
            ok = all(os.access(p, os.R_OK | os.X_OK) for p in needed)
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
        return None
    return (
        f"the '{SANDBOX_USER}' user cannot read {', '.join(needed)} (make the course and "
        f"its Python world-readable, or enable user namespaces)"
    )


def main(argv: list[str] | None = None) -> None:
    """`--scratch DIR -- COMMAND...`: confine this process, then exec COMMAND (a kernel)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) < 4 or argv[0] != "--scratch" or argv[2] != "--":
        raise SystemExit(
            "usage: python -m instructor.infrastructure.confine --scratch DIR -- COMMAND ..."
        )
    die_with_parent()
    scratch, command = argv[1], argv[3:]
    for i, arg in enumerate(command[:-1]):
        if arg == "-f":  # the kernel's connection file is private to the grader: hand it a copy
            copy = os.path.join(scratch, "kernel-connection.json")
            shutil.copyfile(command[i + 1], copy)
            ids = _scratch_owner()
            if ids is not None:
                os.chown(copy, *ids)
            command[i + 1] = copy
    kernel_python = os.path.dirname(os.path.dirname(command[0]))
    readable = python_paths()
    if os.path.isfile(os.path.join(kernel_python, "pyvenv.cfg")):  # a kernel in another venv
        readable = tuple(_outermost([*readable, kernel_python]))
    confine_current_process(View(scratch, readable), KERNEL_MEMORY)
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
