"""Where every command's output goes: written atomically into a folder it never empties
(`files`), with the commit it came from (`provenance`), quoting what it did not
write safely (`text`)."""

from reports.output.files import (
    LOCK_FILE,
    UnusableFolder,
    folder_lock,
    output_folder,
    stage_text,
    write_text_atomically,
    write_texts_atomically,
)
from reports.output.provenance import (
    DEFAULT_OUT,
    MEASURED,
    ROOT,
    commit_id,
    machine_fields,
    project_commit,
    provenance_fields,
)
from reports.output.text import anchor, first_line, http_link

__all__ = [
    "DEFAULT_OUT",
    "LOCK_FILE",
    "MEASURED",
    "ROOT",
    "UnusableFolder",
    "anchor",
    "commit_id",
    "first_line",
    "folder_lock",
    "http_link",
    "machine_fields",
    "output_folder",
    "project_commit",
    "provenance_fields",
    "stage_text",
    "write_text_atomically",
    "write_texts_atomically",
]
