from portal_runtime.cli import make_cli

from notify.bootstrap import definition

make_cli(definition)()
