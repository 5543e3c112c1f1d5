"""The Milvus scenario traced with OpenTelemetry; the approaches differ only in their setup."""


class Failure(Exception):
    """A failure already told in one line for the user: the run prints it as it is, without
    a type name or a stack trace, and exits with `exit_status`."""

    exit_status = 1


class BadSetting(Failure):
    """A malformed setting: a usage error, found before connecting."""

    exit_status = 2
