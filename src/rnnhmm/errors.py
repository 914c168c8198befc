"""The one base class of every error that is the user's to fix (a bad configuration, argument,
parameter, HMM or result file).  ``rnnhmm <stage>`` reports such an error as one line naming the
problem and exits with status 2; anything else is a bug and keeps its traceback.  Standard library
only, so that every module can raise it without importing another one's dependencies."""

from __future__ import annotations


class UserError(Exception):
    """A problem with the input; the message names it and what is allowed."""
