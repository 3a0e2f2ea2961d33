"""The data privacy and compliance statement an administrator must agree to.

Customer Insights shows such a statement when a connection is added and does
not save the connection until "I agree" is ticked. Ours says the same in our own
words. The consent stored with a connection names who agreed, when, and
:data:`CONSENT_VERSION`; change the version whenever the text changes.
"""

from __future__ import annotations

from audiencesync.errors import ConfigError

CONSENT_VERSION = "iterable-2025-1"

PRIVACY_STATEMENT = """\
Data privacy and compliance

Exports on this connection send customer data out of audiencesync to Iterable,
a service run by another company: the email address (and the userId and extra
fields, when an export maps them) of every profile in the exported segments.
Iterable stores and processes that data under your organisation's agreement
with Iterable and Iterable's own terms, possibly in another country.

By agreeing, you confirm on behalf of your organisation that it is allowed to
share this data with Iterable: that it has a lawful basis and any consent this
needs, that it will honour people's requests (access, objection, erasure) in
Iterable too, and that the transfer complies with your agreements with Iterable
and with the data protection laws that apply to you. audiencesync sends only
the fields an export maps; removing an export or this connection stops further
transfers, but data already sent stays in Iterable until you delete it there.
"""


class ConsentRequiredError(ConfigError):
    """Raised when a connection is saved without agreeing to the statement."""

    code = "consent_required"


def require_agreement(*, agreed: bool) -> None:
    """Raise ConsentRequiredError unless the statement was agreed to."""
    if not agreed:
        msg = (
            "A connection cannot be saved until its data privacy and compliance"
            " statement is agreed to (it is shown with this error and in"
            " docs/connections.md). Nothing was saved."
        )
        raise ConsentRequiredError(
            msg,
            field="i_agree",
            details={"statement": PRIVACY_STATEMENT, "version": CONSENT_VERSION},
        )
