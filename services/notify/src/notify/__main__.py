from notify.bootstrap import definition
from portal_runtime.cli import make_cli

make_cli(definition)()
