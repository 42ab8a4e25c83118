using System.Runtime.InteropServices;

namespace SharpLM.Distributed;

/// <summary>
/// The few MPI calls data-parallel training needs, bound at run time to Open MPI's <c>libmpi.so.40</c>
/// (Debian's openmpi-bin). Nothing loads it until a process finds itself started by mpirun, so SharpLM runs
/// without MPI installed. Open MPI's handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, ...) are the addresses of
/// exported globals, not constants, so they are looked up as symbols. (NuGet's MPI.NET is built against
/// Microsoft MPI and crashes on Open MPI.)
/// </summary>
internal sealed unsafe class MpiLibrary
{
    /// <summary>MPI_THREAD_SERIALIZED: any thread may call MPI, one at a time (the training thread can change across awaits).</summary>
    public const int ThreadSerialized = 2;

    private static readonly string[] Names = ["libmpi.so.40", "libmpi.so"];

    private readonly delegate* unmanaged<int*, byte***, int, int*, int> _initThread;
    private readonly delegate* unmanaged<int*, int> _initialized;
    private readonly delegate* unmanaged<int*, int> _finalized;
    private readonly delegate* unmanaged<int> _finalize;
    private readonly delegate* unmanaged<nint, int*, int> _commRank;
    private readonly delegate* unmanaged<nint, int*, int> _commSize;
    private readonly delegate* unmanaged<void*, void*, int, nint, nint, nint, int> _allreduce;
    private readonly delegate* unmanaged<void*, int, nint, int, nint, int> _bcast;
    private readonly delegate* unmanaged<nint, int> _barrier;
    private readonly delegate* unmanaged<nint, int, int> _abort;

    private MpiLibrary(nint library, string path)
    {
        Path = path;
        nint Export(string name) => NativeLibrary.TryGetExport(library, name, out nint address) ? address
            : throw new InvalidInputException($"{path}: has no symbol {name}; SharpLM needs Open MPI 4 or later (Debian: apt-get install openmpi-bin libopenmpi-dev).");
        _initThread = (delegate* unmanaged<int*, byte***, int, int*, int>)Export("MPI_Init_thread");
        _initialized = (delegate* unmanaged<int*, int>)Export("MPI_Initialized");
        _finalized = (delegate* unmanaged<int*, int>)Export("MPI_Finalized");
        _finalize = (delegate* unmanaged<int>)Export("MPI_Finalize");
        _commRank = (delegate* unmanaged<nint, int*, int>)Export("MPI_Comm_rank");
        _commSize = (delegate* unmanaged<nint, int*, int>)Export("MPI_Comm_size");
        _allreduce = (delegate* unmanaged<void*, void*, int, nint, nint, nint, int>)Export("MPI_Allreduce");
        _bcast = (delegate* unmanaged<void*, int, nint, int, nint, int>)Export("MPI_Bcast");
        _barrier = (delegate* unmanaged<nint, int>)Export("MPI_Barrier");
        _abort = (delegate* unmanaged<nint, int, int>)Export("MPI_Abort");
        World = Export("ompi_mpi_comm_world");
        Float = Export("ompi_mpi_float");
        Double = Export("ompi_mpi_double");
        Byte = Export("ompi_mpi_byte");
        Sum = Export("ompi_mpi_op_sum");
        Max = Export("ompi_mpi_op_max");
    }

    /// <summary>The file loaded.</summary>
    public string Path { get; }

    /// <summary>MPI_COMM_WORLD.</summary>
    public nint World { get; }

    /// <summary>MPI_FLOAT, MPI_DOUBLE and MPI_BYTE.</summary>
    public nint Float { get; }

    /// <inheritdoc cref="Float"/>
    public nint Double { get; }

    /// <inheritdoc cref="Float"/>
    public nint Byte { get; }

    /// <summary>MPI_SUM and MPI_MAX.</summary>
    public nint Sum { get; }

    /// <inheritdoc cref="Sum"/>
    public nint Max { get; }

    /// <summary>MPI_IN_PLACE in Open MPI.</summary>
    public static void* InPlace => (void*)1;

    /// <summary>The environment variable that names the library file, for an Open MPI outside the loader's search path.</summary>
    public const string PathVariable = "SHARPLM_MPI_LIBRARY";

    /// <summary>Loads libmpi (the file <see cref="PathVariable"/> names, else the loader's libmpi.so.40), or explains what to install.</summary>
    public static MpiLibrary Load()
    {
        var failures = new List<string>();
        string? named = Environment.GetEnvironmentVariable(PathVariable);
        foreach (string name in named is { Length: > 0 } ? [named] : Names)
        {
            try { return new MpiLibrary(NativeLibrary.Load(name), name); }
            catch (DllNotFoundException e) { failures.Add(e.Message.Split('\n')[0]); }
        }
        throw new InvalidInputException("this process was started by mpirun, but Open MPI's library could not be loaded " +
            $"({string.Join("; ", failures)}). Install it on every machine of the run (Debian: apt-get install openmpi-bin libopenmpi-dev), " +
            $"set {PathVariable} to its libmpi.so.40, or run SharpLM without mpirun.");
    }

    /// <summary>MPI_Init_thread; returns the thread level granted.</summary>
    public int InitThread(int required)
    {
        int provided;
        Check(_initThread(null, null, required, &provided), "MPI_Init_thread");
        return provided;
    }

    /// <summary>MPI_Initialized and not yet MPI_Finalized.</summary>
    public bool IsActive
    {
        get
        {
            int initialized, finalized;
            _initialized(&initialized);
            _finalized(&finalized);
            return initialized != 0 && finalized == 0;
        }
    }

    /// <summary>MPI_Finalize.</summary>
    public void FinalizeMpi() => Check(_finalize(), "MPI_Finalize");

    /// <summary>MPI_Comm_rank of MPI_COMM_WORLD.</summary>
    public int Rank()
    {
        int rank;
        Check(_commRank(World, &rank), "MPI_Comm_rank");
        return rank;
    }

    /// <summary>MPI_Comm_size of MPI_COMM_WORLD.</summary>
    public int Size()
    {
        int size;
        Check(_commSize(World, &size), "MPI_Comm_size");
        return size;
    }

    /// <summary>MPI_Allreduce in place on <paramref name="count"/> elements at <paramref name="buffer"/>.</summary>
    public void AllreduceInPlace(void* buffer, int count, nint type, nint op) => Check(_allreduce(InPlace, buffer, count, type, op, World), "MPI_Allreduce");

    /// <summary>MPI_Bcast of <paramref name="count"/> elements from <paramref name="root"/>.</summary>
    public void Broadcast(void* buffer, int count, nint type, int root) => Check(_bcast(buffer, count, type, root, World), "MPI_Bcast");

    /// <summary>MPI_Barrier on MPI_COMM_WORLD.</summary>
    public void Barrier() => Check(_barrier(World), "MPI_Barrier");

    /// <summary>MPI_Abort of every process of the run; does not return.</summary>
    public void Abort(int code) => _abort(World, code);

    // Open MPI's default error handler aborts the job before a call returns an error; this catches a handler changed elsewhere.
    private static void Check(int code, string call)
    {
        if (code != 0) throw new InvalidOperationException($"{call} failed with MPI error {code}.");
    }
}
