from portal_runtime.migrations import run_env
from returns.adapters.tables import Base

run_env(Base.metadata)
