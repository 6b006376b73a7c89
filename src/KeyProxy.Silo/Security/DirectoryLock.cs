namespace KeyProxy.Silo.Security;

/// <summary>
/// An exclusive lock between processes on a directory of generated keys (a <c>.lock</c> file opened with
/// <see cref="FileShare.None"/>, which .NET takes as an advisory <c>flock</c> on Unix). A rename "without overwriting" is
/// not atomic on Unix (.NET checks, then renames), so silos starting together could each make their own CA; under this
/// lock the check and the write are one step. Waits up to 30 s for another process.
/// </summary>
internal sealed class DirectoryLock : IDisposable
{
    public const string FileName = ".lock";

    private readonly FileStream _stream;

    private DirectoryLock(FileStream stream) => _stream = stream;

    public static DirectoryLock Acquire(string directory)
    {
        var path = Path.Combine(directory, FileName);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None };
                if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
                return new DirectoryLock(new FileStream(path, options));
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(20); // another silo holds it
            }
        }
    }

    public void Dispose() => _stream.Dispose();
}
