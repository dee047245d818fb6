"""The registry's one exception family; every error answer has the shape {"error_code": int, "message": str}.

Codes are Confluent Schema Registry's, so its clients understand them.
"""


class RegistryError(Exception):
    """Base of every error the API reports; subclasses set the HTTP status and Confluent error code."""

    status = 500
    error_code = 50001
    default_message = "Error in the backend data store"

    def __init__(self, message: str | None = None, *, details: list | None = None):
        self.message = message or self.default_message
        self.details = details
        super().__init__(self.message)

    def as_dict(self) -> dict:
        body = {"error_code": self.error_code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class Unauthorized(RegistryError):
    status, error_code, default_message = 401, 40101, "Unauthorized"


class Forbidden(RegistryError):
    status, error_code, default_message = 403, 40301, "User is denied operation"


class NotFound(RegistryError):
    status, error_code, default_message = 404, 404, "HTTP 404 Not Found"


class SubjectNotFound(NotFound):
    error_code = 40401

    def __init__(self, subject: str):
        super().__init__(f"Subject '{subject}' not found.")


class VersionNotFound(NotFound):
    error_code = 40402

    def __init__(self, subject: str, version):
        super().__init__(f"Version {version} not found.")


class SchemaNotFound(NotFound):
    error_code, default_message = 40403, "Schema not found"


class SubjectSoftDeleted(NotFound):
    error_code = 40404

    def __init__(self, subject: str):
        super().__init__(f"Subject '{subject}' was soft deleted.Set permanent=true to delete permanently")


class SubjectNotSoftDeleted(NotFound):
    error_code = 40405

    def __init__(self, subject: str):
        super().__init__(f"Subject '{subject}' was not deleted first before being permanently deleted")


class VersionSoftDeleted(NotFound):
    error_code = 40406

    def __init__(self, subject: str, version):
        super().__init__(f"Subject '{subject}' Version {version} was soft deleted.Set permanent=true to delete permanently")


class VersionNotSoftDeleted(NotFound):
    error_code = 40407

    def __init__(self, subject: str, version):
        super().__init__(f"Subject '{subject}' Version {version} was not deleted first before being permanently deleted")


class SubjectConfigNotFound(NotFound):
    error_code = 40408

    def __init__(self, subject: str):
        super().__init__(f"Subject '{subject}' does not have subject-level compatibility configured")


class SubjectModeNotFound(NotFound):
    error_code = 40409

    def __init__(self, subject: str):
        super().__init__(f"Subject '{subject}' does not have subject-level mode configured")


class IncompatibleSchema(RegistryError):
    status, error_code = 409, 409

    def __init__(self, messages: list[str], findings: list[dict] | None = None):
        self.messages = messages
        super().__init__("Schema being registered is incompatible with an earlier schema for subject; " + "; ".join(messages), details=findings)


class InvalidSchema(RegistryError):
    status, error_code, default_message = 422, 42201, "Invalid schema"


class InvalidVersion(RegistryError):
    status, error_code = 422, 42202

    def __init__(self, version):
        super().__init__(f"The specified version '{version}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\"")


class InvalidCompatibilityLevel(RegistryError):
    status, error_code = 422, 42203

    def __init__(self, level):
        super().__init__(f"Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive; got {level!r}")


class InvalidRuleSet(RegistryError):
    status, error_code = 422, 42203

    def __init__(self, value):
        super().__init__(f"Invalid compatibilityRules {value!r}. Valid values are SPEC, CONFLUENT, WIRE, WIRE_JSON, PACKAGE and FILE")


class InvalidMode(RegistryError):
    status, error_code = 422, 42204

    def __init__(self, mode):
        super().__init__(f"Invalid mode {mode!r}. Valid values are READWRITE, READONLY, READONLY_OVERRIDE and IMPORT")


class OperationNotPermitted(RegistryError):
    status, error_code, default_message = 422, 42205, "Operation not permitted"


class ReferenceExists(RegistryError):
    status, error_code = 422, 42206

    def __init__(self, subject: str, version):
        super().__init__(f"One or more references exist to the schema {{subject={subject},version={version}}}")


class InvalidSubject(RegistryError):
    status, error_code = 422, 42208

    def __init__(self, subject: str):
        super().__init__(f"The specified subject '{subject}' is not a valid subject name")


class SchemaTooLarge(RegistryError):
    status, error_code = 422, 42209

    def __init__(self, size: int, limit: int):
        super().__init__(f"Schema is {size} bytes; the limit is {limit} bytes")


class BadRequest(RegistryError):
    status, error_code, default_message = 400, 400, "Bad request"
