package demo;

/**
 * A failure that ends the run with a line of its own: the one line on stderr, the run
 * record's error, and its exit status (2 for a malformed setting, 1 for the rest).
 */
final class RunFailure extends RuntimeException {
    private final int exitStatus;

    RunFailure(String line, int exitStatus, Throwable cause) {
        super(line, cause);
        this.exitStatus = exitStatus;
    }

    int exitStatus() {
        return exitStatus;
    }

    /** An exception as one line: its class and message, whitespace collapsed. */
    static String oneLine(Throwable e) {
        return (e.getClass().getSimpleName() + ": " + e.getMessage()).replaceAll("\\s+", " ");
    }
}
