"""jagtile's exceptions."""


class KernelError(ValueError):
    """A kernel or its inputs are wrong. The text is the located message the CLI prints
    (FILE:LINE:COL: error: ..., the source line with a caret, a hint); the parts are also
    attributes: message, hint, file, line, column (0 where unknown)."""

    message = ""
    hint = ""
    file = ""
    line = 0
    column = 0
