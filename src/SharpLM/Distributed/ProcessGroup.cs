namespace SharpLM.Distributed;

/// <summary>
/// The processes of one training run: this process's rank among them, and the collectives SharpLM needs (sum,
/// any, broadcast from rank 0, barrier, abort). A process that mpirun (or Slurm's srun with PMIx) started joins
/// the run through Open MPI; any other process is a group of one, where every collective returns its input and
/// no MPI library is loaded.
/// </summary>
public sealed unsafe class ProcessGroup
{
    private static readonly Lock Gate = new();
    private static ProcessGroup? _current;
    private readonly MpiLibrary? _mpi;

    private ProcessGroup(MpiLibrary? mpi, int rank, int size)
    {
        _mpi = mpi;
        Rank = rank;
        Size = size;
    }

    /// <summary>A process alone: rank 0 of 1.</summary>
    public static ProcessGroup Single { get; } = new(null, 0, 1);

    /// <summary>
    /// This process's group: joined through MPI the first time it is asked for when a launcher's variables
    /// (OMPI_COMM_WORLD_SIZE, PMIX_RANK) are set, else <see cref="Single"/>.
    /// </summary>
    public static ProcessGroup Current
    {
        get
        {
            lock (Gate) return _current ??= LaunchedByMpi ? Join() : Single;
        }
    }

    /// <summary>Whether a launcher started this process as one rank of an MPI job.</summary>
    public static bool LaunchedByMpi => LaunchedRank is not null;

    /// <summary>The rank a launcher gave this process in its environment (before MPI is joined), or null.</summary>
    public static int? LaunchedRank =>
        int.TryParse(Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_RANK") ?? Environment.GetEnvironmentVariable("PMIX_RANK"), out int rank) ? rank : null;

    /// <summary>The group if MPI was joined in this process and not yet left, else null.</summary>
    public static ProcessGroup? Joined
    {
        get
        {
            lock (Gate) return _current is { _mpi: not null } group && group._mpi.IsActive ? group : null;
        }
    }

    /// <summary>This process's rank, 0 to <see cref="Size"/> - 1.</summary>
    public int Rank { get; }

    /// <summary>Processes in the run.</summary>
    public int Size { get; }

    /// <summary>Rank 0: the process that logs, evaluates and writes.</summary>
    public bool IsRoot => Rank == 0;

    /// <summary>Whether the group has more than one process.</summary>
    public bool IsDistributed => Size > 1;

    /// <summary>Sums <paramref name="values"/> over the ranks in place (every rank gets the sums).</summary>
    public void Sum(Span<float> values)
    {
        if (_mpi is null || values.IsEmpty) return;
        // MPI counts are ints.
        for (int from = 0; from < values.Length; from += int.MaxValue / 4)
        {
            var part = values[from..Math.Min(values.Length, from + int.MaxValue / 4)];
            fixed (float* p = part) _mpi.AllreduceInPlace(p, part.Length, _mpi.Float, _mpi.Sum);
        }
    }

    /// <inheritdoc cref="Sum(Span{float})"/>
    public void Sum(Span<double> values)
    {
        if (_mpi is null || values.IsEmpty) return;
        fixed (double* p = values) _mpi.AllreduceInPlace(p, values.Length, _mpi.Double, _mpi.Sum);
    }

    /// <summary>True on every rank when <paramref name="local"/> is true on any: decisions every rank must take together (stop, skip).</summary>
    public bool Any(bool local)
    {
        if (_mpi is null) return local;
        double flag = local ? 1 : 0;
        _mpi.AllreduceInPlace(&flag, 1, _mpi.Double, _mpi.Max);
        return flag != 0;
    }

    /// <summary>Rank 0's <paramref name="value"/> on every rank.</summary>
    public double FromRoot(double value)
    {
        if (_mpi is null) return value;
        _mpi.Broadcast(&value, 1, _mpi.Double, 0);
        return value;
    }

    /// <summary>Overwrites <paramref name="buffer"/> with rank 0's bytes; every rank passes a buffer of the same length.</summary>
    public void Broadcast(Span<byte> buffer)
    {
        if (_mpi is null) return;
        for (int from = 0; from < buffer.Length; from += int.MaxValue / 2)
        {
            var part = buffer[from..Math.Min(buffer.Length, from + int.MaxValue / 2)];
            fixed (byte* p = part) _mpi.Broadcast(p, part.Length, _mpi.Byte, 0);
        }
    }

    /// <summary>Rank 0's byte array on every rank (the others pass anything, such as null).</summary>
    public byte[] Broadcast(byte[]? rootBytes)
    {
        if (_mpi is null) return rootBytes ?? throw new ArgumentNullException(nameof(rootBytes));
        long length = (long)FromRoot(IsRoot ? rootBytes!.Length : 0);
        var bytes = IsRoot ? rootBytes! : new byte[length];
        Broadcast(bytes.AsSpan());
        return bytes;
    }

    /// <summary>Waits until every rank has called it (rank 0 prepares data that the others then read).</summary>
    public void Barrier() => _mpi?.Barrier();

    /// <summary>
    /// Ends every process of the run with <paramref name="code"/> (MPI_Abort), so that none waits forever in a
    /// collective for a rank that failed. A group of one exits.
    /// </summary>
    public void Abort(int code)
    {
        Console.Error.Flush();
        Console.Out.Flush();
        if (_mpi is null) Environment.Exit(code);
        _mpi.Abort(code);
        Environment.Exit(code);
    }

    /// <summary>Leaves MPI (MPI_Finalize) if this process joined it; call once, as the process ends.</summary>
    public static void Leave()
    {
        lock (Gate)
            if (_current?._mpi is { IsActive: true } mpi) mpi.FinalizeMpi();
    }

    private static ProcessGroup Join()
    {
        var mpi = MpiLibrary.Load();
        int level = mpi.InitThread(MpiLibrary.ThreadSerialized);
        if (level < MpiLibrary.ThreadSerialized)
            throw new InvalidInputException($"{mpi.Path}: grants thread level {level}; SharpLM needs MPI_THREAD_SERIALIZED (2) or more.");
        return new ProcessGroup(mpi, mpi.Rank(), mpi.Size());
    }
}
