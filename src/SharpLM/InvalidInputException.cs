namespace SharpLM;

/// <summary>
/// A problem with something the user gave (a file, a folder, an option), worded for the user: it
/// names the file and says what is wrong. The command line prints the message, without a stack
/// trace, and exits with a non-zero code.
/// </summary>
public sealed class InvalidInputException : Exception
{
    /// <summary>Creates the exception with a message that names the file and the problem.</summary>
    public InvalidInputException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and the lower-level cause.</summary>
    public InvalidInputException(string message, Exception inner) : base(message, inner) { }
}
