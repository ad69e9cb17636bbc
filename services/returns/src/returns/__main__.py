from portal_runtime.cli import make_cli
from returns.bootstrap import definition

make_cli(definition)()
