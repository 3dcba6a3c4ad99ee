"""MPI for compiled code whose statistics are taken over every process
(`all_ranks`): MPICH's MPI_COMM_WORLD, through ctypes.

A library compiled from such code calls MPI_Allreduce; MPI must be
initialized in the process first. `init()` does that once (and finalizes
MPI at exit); programs that initialize MPI themselves (mpi4py, a C driver)
need not call it. Run the processes with `mpirun.mpich -np N`.
"""
import atexit
import ctypes
import ctypes.util

MISSING = ("MPICH was not found (libmpich.so); install Debian's mpich and "
           "libmpich-dev (scripts/install-deps.sh does)")

# MPICH's handle of MPI_COMM_WORLD (mpi.h: #define MPI_COMM_WORLD
# ((MPI_Comm)0x44000000)); MPI_Comm is an int in MPICH's ABI.
_COMM_WORLD = 0x44000000

_library = None


def mpich_installed():
    """Whether MPICH's shared library can be linked and loaded."""
    return ctypes.util.find_library("mpich") is not None


def _mpich():
    global _library
    if _library is None:
        name = ctypes.util.find_library("mpich")
        if name is None:
            raise RuntimeError(MISSING)
        # Global: the compiled libraries' MPI_* calls bind to this copy.
        _library = ctypes.CDLL(name, mode=ctypes.RTLD_GLOBAL)
    return _library


def _check(what, code):
    if code != 0:
        raise RuntimeError(f"{what} failed (MPI error {code})")


def init():
    """Initializes MPI in this process unless it already is."""
    lib = _mpich()
    flag = ctypes.c_int(0)
    _check("MPI_Initialized", lib.MPI_Initialized(ctypes.byref(flag)))
    if flag.value:
        return
    _check("MPI_Init", lib.MPI_Init(None, None))
    atexit.register(_finalize)


def _finalize():
    lib = _mpich()
    flag = ctypes.c_int(0)
    lib.MPI_Finalized(ctypes.byref(flag))
    if not flag.value:
        lib.MPI_Finalize()


def rank():
    """This process's rank in MPI_COMM_WORLD (initializes MPI)."""
    init()
    value = ctypes.c_int(0)
    _check("MPI_Comm_rank", _mpich().MPI_Comm_rank(_COMM_WORLD, ctypes.byref(value)))
    return value.value


def size():
    """The number of processes in MPI_COMM_WORLD (initializes MPI)."""
    init()
    value = ctypes.c_int(0)
    _check("MPI_Comm_size", _mpich().MPI_Comm_size(_COMM_WORLD, ctypes.byref(value)))
    return value.value
