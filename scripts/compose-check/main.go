// Command compose-check validates compose files against the Compose Specification with
// compose-go, the loader Docker Compose itself uses (the specification's JSON schema is embedded
// in it), then prints the services it found. Variables are interpolated from the environment, as
// `docker compose config` does. Exit code 1 with the reason when a file is not valid.
//
//	go run ./scripts/compose-check deploy/compose.yaml
package main

import (
	"context"
	"fmt"
	"os"
	"sort"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: compose-check FILE...")
		os.Exit(2)
	}
	options, err := cli.NewProjectOptions(os.Args[1:], cli.WithOsEnv, cli.WithConsistency(true))
	if err != nil {
		fail(err)
	}
	project, err := options.LoadProject(context.Background())
	if err != nil {
		fail(err)
	}
	names := project.ServiceNames()
	sort.Strings(names)
	for _, name := range names {
		service := project.Services[name]
		fmt.Printf("%s\t%s\t%v\n", name, service.Image, service.Command)
	}
	fmt.Printf("valid: %d services, project %s\n", len(names), project.Name)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "compose-check:", err)
	os.Exit(1)
}
