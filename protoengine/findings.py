"""The one shape every engine result takes: a rule id at a place in a file, with a message."""

from dataclasses import asdict, dataclass, fields
from operator import attrgetter


@dataclass(frozen=True, order=True)
class Finding:
    """One breaking change, lint finding or compile error.

    `path` is the import path of the file (as in the compiled mapping); `line` and
    `column` are 1-based, 0 when the place is unknown. `confluent` carries Confluent's
    difference name (`FIELD_REMOVED`, ...) for findings of the CONFLUENT rule set.
    """

    path: str
    line: int
    column: int
    rule: str
    message: str
    confluent: str | None = None
    # Where the element ends (the column after its last character), as buf's JSON prints it; 0 when unknown.
    end_line: int = 0
    end_column: int = 0

    def as_dict(self) -> dict:
        """Return the registry API's shape: no end of span (the API has always named where a finding starts)."""
        data = asdict(self)
        del data["end_line"], data["end_column"]
        if data["confluent"] is None:
            del data["confluent"]
        return data

    def as_text(self) -> str:
        """Return the `path:line:column:message` line that buf and compilers print."""
        return f"{self.path}:{self.line}:{self.column}:{self.message}"


# A Finding's fields in the order its generated comparison reads them: sorted(findings, key=IN_ORDER) orders them as
# sorted(findings) does, without a call of the dataclass's Python __lt__ per comparison (hundreds for a large schema).
IN_ORDER = attrgetter(*(field.name for field in fields(Finding)))
