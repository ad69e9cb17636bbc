from billing.adapters import sandbox_tables  # noqa: F401  (its tables are Base's too)
from billing.adapters.tables import Base
from portal_runtime.migrations import run_env

run_env(Base.metadata)
