from portal_runtime.migrations import run_env

from orders.adapters.tables import Base

run_env(Base.metadata)
