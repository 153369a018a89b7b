"""Issued certificates: serials, PDF rendering, verification and revocation."""

import logging

logger = logging.getLogger("lms.certificates")
