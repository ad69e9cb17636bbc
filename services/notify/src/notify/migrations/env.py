from portal_runtime.migrations import run_env

from notify.adapters.tables import Base

run_env(Base.metadata)
