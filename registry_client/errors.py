"""The client's one error family: every failure says what was asked, of which registry, and what came back."""


class RegistryClientError(Exception):
    """Base of every error the client raises."""


class SchemaRegistryError(RegistryClientError):
    """The registry answered with an error (or could not be reached after the retries).

    Named like confluent-kafka's error so that `except SchemaRegistryError` keeps working after moving over;
    `http_status_code` and `error_code` carry the registry's answer (-1 when it never answered).
    """

    UNKNOWN = -1

    def __init__(self, http_status_code: int, error_code: int, message: str):
        super().__init__(message)
        self.http_status_code = http_status_code
        self.error_code = error_code
        self.message = message

    def __str__(self):
        return f"{self.message} (HTTP status code {self.http_status_code}, SR code {self.error_code})"


class SerializationError(RegistryClientError):
    """A message could not be framed, unframed, encrypted or decrypted."""


class ConfigurationError(RegistryClientError, ValueError):
    """A configuration key is unknown or has a value of the wrong kind."""


class MessageRefused(RegistryClientError):
    """A consumer refused a message (unknown or disabled schema, other tenant); it was not acknowledged."""

    def __init__(self, reason: str, *, action: str):
        super().__init__(f"{reason} (message {action})")
        self.reason = reason
        # "redelivered" (negatively acknowledged) or "dead-lettered" (copied to the dead-letter subject).
        self.action = action
