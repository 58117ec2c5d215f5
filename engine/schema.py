"""Every table of the service on one metadata: the core's and each domain's.

The core's models know no domain; what needs all tables at once (migrations, the schema check,
the composition root that wires a context) imports this module.
"""

from __future__ import annotations

from engine import models, models_documents, models_ops  # noqa: F401
from engine.accountability import models_cases  # noqa: F401
from engine.burden import models_burden  # noqa: F401
from engine.duty_lists import models_catalog  # noqa: F401
from engine.trail import models_trail  # noqa: F401

METADATA = models.Base.metadata
