"""The registry's one exception family; every error answer has the shape {"error_code": int, "message": str}.

Codes are Confluent Schema Registry's, so its clients understand them, and so are the
messages wherever Confluent has one for the same case (its `Errors` class and REST
exceptions), letter for letter, because scripts compare them. A subclass sets the
status, the code and, for messages that name things, a `template` whose fields are
filled from the positional arguments in the order of `fields`.
"""

from protoengine.compatibility import RULE_SETS


class RegistryError(Exception):
    """Base of every error the API reports; subclasses set the HTTP status and Confluent error code."""

    status = 500
    error_code = 50001
    default_message = "Error in the backend data store"
    template: str | None = None
    fields: tuple[str, ...] = ()
    # True for errors that say the schema itself is unacceptable (counted by the validation-errors metric).
    is_schema_validation_error = False
    # Seconds after which the same request may succeed (the answer's Retry-After); None when no wait helps.
    retry_after: int | None = None

    def __init__(self, *arguments, details: list | None = None):
        if self.template is not None:
            message = self.template.format(**dict(zip(self.fields, arguments, strict=True)))
        else:
            message = arguments[0] if arguments and arguments[0] else self.default_message
        self.message = message
        self.details = details
        super().__init__(self.message)

    def as_dict(self) -> dict:
        body = {"error_code": self.error_code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body

    def headers(self) -> dict[str, str]:
        """Return the headers every answer of this error carries, whatever renders it (API, web page)."""
        return {"Retry-After": str(self.retry_after)} if self.retry_after else {}


class Unauthorized(RegistryError):
    status, error_code, default_message = 401, 40101, "Unauthorized"


class Forbidden(RegistryError):
    status, error_code, default_message = 403, 40301, "User is denied operation"


class NotFound(RegistryError):
    status, error_code, default_message = 404, 404, "HTTP 404 Not Found"


class SubjectNotFound(NotFound):
    error_code, fields, template = 40401, ("subject",), "Subject '{subject}' not found."


class VersionNotFound(NotFound):
    error_code, fields, template = 40402, ("subject", "version"), "Version {version} not found."


class VersionRetired(NotFound):
    error_code, fields = 40402, ("subject", "version", "retired", "successor")
    template = "Version {version} of subject '{subject}' was retired on {retired}{successor}."


class SchemaNotFound(NotFound):
    error_code, default_message = 40403, "Schema not found"


class SchemaIdNotFound(SchemaNotFound):
    """A schema asked for by id or guid."""

    fields, template = ("schema_id",), "Schema {schema_id} not found"


class SubjectSoftDeleted(NotFound):
    error_code, fields = 40404, ("subject",)
    template = "Subject '{subject}' was soft deleted.Set permanent=true to delete permanently"


class SubjectNotSoftDeleted(NotFound):
    error_code, fields = 40405, ("subject",)
    template = "Subject '{subject}' was not deleted first before being permanently deleted"


class VersionSoftDeleted(NotFound):
    error_code, fields = 40406, ("subject", "version")
    template = "Subject '{subject}' Version {version} was soft deleted.Set permanent=true to delete permanently"


class VersionNotSoftDeleted(NotFound):
    error_code, fields = 40407, ("subject", "version")
    template = "Subject '{subject}' Version {version} was not deleted first before being permanently deleted"


class SubjectConfigNotFound(NotFound):
    error_code, fields = 40408, ("subject",)
    template = "Subject '{subject}' does not have subject-level compatibility configured"


class SubjectModeNotFound(NotFound):
    error_code, fields = 40409, ("subject",)
    template = "Subject '{subject}' does not have subject-level mode configured"


class ReviewNotFound(NotFound):
    error_code, fields, template = 40411, ("review",), "Review {review} not found."


class SelfApproval(RegistryError):
    status, error_code, fields = 403, 40302, ("review",)
    template = "Review {review}: nobody approves their own change; another reviewer must approve it"


class ReviewNotPending(RegistryError):
    status, error_code, fields = 409, 40911, ("review", "status")
    template = "Review {review} is {status}, no longer pending"


class ReviewNotReady(RegistryError):
    status, error_code, fields = 409, 40912, ("review", "state", "progress")
    template = (
        "Review {review} is still being prepared ({state}, {progress}% done); approve it once its checks are ready"
    )


class ReviewStale(RegistryError):
    status, error_code, fields = 409, 40913, ("review", "was", "now")
    template = (
        "Review {review} was prepared against version {was}, but the subject's latest version is now {now}; "
        "it is being re-checked against it, review the new report and approve again"
    )


class NoticePeriodRunning(RegistryError):
    status, error_code, fields = 409, 40914, ("review", "until")
    template = (
        "Review {review} is a breaking change whose notice period runs until {until}; "
        "approve it then, or override the notice with a reason"
    )


class IncompatibleSchema(RegistryError):
    status, error_code = 409, 40901

    def __init__(self, subject: str, messages: list[str], findings: list[dict] | None = None):
        self.messages = messages
        super().__init__(
            f'Schema being registered is incompatible with an earlier schema for subject "{subject}", '
            f"details: [{', '.join(messages)}]",
            details=findings,
        )


class InvalidSchema(RegistryError):
    status, error_code, default_message = 422, 42201, "Invalid schema"
    is_schema_validation_error = True


class InvalidVersion(RegistryError):
    status, error_code, fields = 422, 42202, ("version",)
    template = (
        "The specified version '{version}' is not a valid version id. Allowed values are between [1, 2^31-1] "
        'and the string "latest"'
    )


class InvalidCompatibilityLevel(RegistryError):
    status, error_code = 422, 42203
    default_message = (
        "Invalid compatibility level. Valid values are none, backward, forward, full, "
        "backward_transitive, forward_transitive, and full_transitive"
    )


class InvalidRuleSet(RegistryError):
    status, error_code, fields = 422, 42203, ("value",)
    template = (
        f"Invalid compatibilityRules {{value!r}}. Valid values are {', '.join(RULE_SETS[:-1])} and {RULE_SETS[-1]}"
    )


class InvalidGovernanceSetting(RegistryError):
    status, error_code, fields = 422, 42203, ("name", "value", "allowed")
    template = "Invalid {name} {value!r}. Valid values are {allowed}"


class TenantModeNotDeleted(RegistryError):
    """DELETE of the tenant-wide mode: Confluent's /mode has no DELETE (405), and every subject falls back on it."""

    status, error_code = 405, 405
    default_message = "The tenant-wide mode is not deleted: set it to the mode wanted instead (PUT /mode)"


class InvalidMode(RegistryError):
    # Confluent's text, although READONLY_OVERRIDE is accepted too.
    status, error_code, default_message = 422, 42204, "Invalid mode. Valid values are READWRITE, READONLY, and IMPORT."


class OperationNotPermitted(RegistryError):
    status, error_code, default_message = 422, 42205, "Operation not permitted"


class ReferenceExists(RegistryError):
    status, error_code, fields = 422, 42206, ("subject", "version")
    template = (
        "One or more references exist to the schema {{magic=1,keytype=SCHEMA,subject={subject},version={version}}}."
    )


class InvalidSubject(RegistryError):
    status, error_code, fields = 422, 42208, ("subject",)
    template = "The specified subject '{subject}' is not a valid."


class SchemaTooLarge(RegistryError):
    status, error_code = 422, 42209
    default_message = "Register operation failed because schema is too large"
    is_schema_validation_error = True

    def __init__(self, size: int, limit: int):
        super().__init__(details=[{"size": size, "limit": limit}])


class SchemaHasTooManyFields(SchemaTooLarge):
    """A schema within the byte limit whose fields (with its imports') would make every check slow."""

    def __init__(self, fields: int, limit: int):
        RegistryError.__init__(self, details=[{"fields": fields, "limit": limit}])


class BadRequest(RegistryError):
    status, error_code, default_message = 400, 400, "Bad request"


class TooManyAttempts(RegistryError):
    """Too many failed sign-ins; `retry_after` (seconds) goes into the Retry-After header."""

    status, error_code = 429, 42901
    default_message = "Too many failed authentication attempts; try again later"

    def __init__(self, *arguments, retry_after: int = 60):
        super().__init__(*arguments)
        self.retry_after = retry_after


class TryAgain(RegistryError):
    """The data store gave up on the request's transaction (a lock wait, a deadlock, a lost connection).

    Raised by `auditing.audited`, the one transaction boundary of every write, for the errors it judges transient.

    The transaction was rolled back, so the same request can be sent again; Retry-After says when. (A connection
    lost at the commit itself may have committed it: the retry then answers what a repeated request does.)
    """

    status, error_code = 503, 50301
    default_message = "The backend data store could not complete the request; send it again"
    retry_after = 1


class InvalidRequest(RegistryError):
    """A well-formed body that asks for something impossible (an unknown account, a revoked token...)."""

    status, error_code, default_message = 422, 422, "Unprocessable entity"


class TokenNotFound(NotFound):
    error_code, default_message = 40410, "Token not found"


class TenantNotFound(NotFound):
    error_code, fields, template = 40420, ("tenant",), "Tenant '{tenant}' not found."


class NotAPrivateCopy(NotFound):
    error_code, fields = 40421, ("subject", "tenant")
    template = "Subject '{subject}' of tenant '{tenant}' is not a private copy of a shared subject."


class PrivateCopyKept(RegistryError):
    status, error_code, fields = 422, 42221, ("subject", "tenant", "reasons")
    template = "Subject '{subject}' of tenant '{tenant}' is kept: {reasons}. force=true retires it anyway."


class InvalidTenantConfig(RegistryError):
    """A configuration that does not fit `system.v1.TenantConfig`; the message names the wrong field's path."""

    status, error_code = 422, 42220


class LanguageNotFound(NotFound):
    error_code, fields = 40450, ("language", "choices")
    template = "Unknown language '{language}'; choose one of {choices}"


class JobNotFound(NotFound):
    error_code, fields, template = 40451, ("job_id",), "Generation job '{job_id}' not found."


class ArchiveNotFound(NotFound):
    error_code, fields, template = 40452, ("language", "version"), "No {language} archive with version '{version}'."


class ConflictingImports(RegistryError):
    status, error_code, fields = 422, 42250, ("paths",)
    template = "The chosen subjects import {paths} at different versions; generate them separately"


class LanguageUnavailable(RegistryError):
    """A code generator's plugin is not installed on this server; the message names the package that brings it."""

    status, error_code, default_message = 503, 50350, "This language is not available on this server"
