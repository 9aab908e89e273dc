// Command pulumi-language-nodejs is a small Node.js language host for the
// Pulumi engine, written for kvmshare.
//
// Why it exists: upstream's host lives in its own nested Go module
// (github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3), which
// the Go module proxy reachable here refuses to serve (HTTP 403 for every
// version and for pseudo-versions of the release commit), while the CLI
// modules (pkg/v3, sdk/v3) are served. This host implements the parts of the
// LanguageRuntime gRPC service that `pulumi preview/up/refresh/destroy`, the
// Automation API, `pulumi install` and `pulumi about` use, on top of the
// @pulumi/pulumi npm package that the project installs:
//
//   - Run starts `node <project>/node_modules/@pulumi/pulumi/cmd/run` with the
//     flags and PULUMI_CONFIG / PULUMI_NODEJS_* environment that the npm
//     package's cmd/run entry point reads;
//   - GetRequiredPackages reports installed npm packages that declare a Pulumi
//     resource plugin ("pulumi": {"resource": true, ...} in package.json);
//   - InstallDependencies, GetProgramDependencies, About, RunPlugin and
//     GetPluginInfo cover the remaining everyday calls.
//
// Code generation (GenerateProject/GenerateProgram/GeneratePackage), `pulumi
// new` prompts and `pulumi package pack` are not implemented.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	"github.com/pulumi/pulumi/sdk/v3/nodejs/npm"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// Exit code used by @pulumi/pulumi's cmd/run after it has already reported a
// user-actionable error (nodeJSProcessExitedAfterLoggingUserActionableMessage).
const bailExitCode = 32

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	engineAddress string
	tracing       string
}

// options holds the `runtime.options` of Pulumi.yaml that this host honours.
type options struct {
	typescript     bool
	tsconfig       string
	nodeargs       []string
	packagemanager npm.PackageManagerType
}

func parseOptions(info *pulumirpc.ProgramInfo) options {
	opts := options{typescript: true, packagemanager: npm.AutoPackageManager}
	var m map[string]any
	if info != nil && info.GetOptions() != nil {
		m = info.GetOptions().AsMap()
	}
	if v, ok := m["typescript"].(bool); ok {
		opts.typescript = v
	}
	if v, ok := m["tsconfig"].(string); ok {
		opts.tsconfig = v
	}
	if v, ok := m["nodeargs"].(string); ok && strings.TrimSpace(v) != "" {
		opts.nodeargs = strings.Fields(v)
	}
	if v, ok := m["packagemanager"].(string); ok && v != "" {
		opts.packagemanager = npm.PackageManagerType(v)
	}
	return opts
}

// programDir returns the directory holding the program (and package.json).
func programDir(info *pulumiRPCInfo) string {
	if info.ProgramDirectory != "" {
		return info.ProgramDirectory
	}
	if info.Pwd != "" {
		return info.Pwd
	}
	wd, _ := os.Getwd()
	return wd
}

// pulumiRPCInfo gathers the directory fields that the different requests carry.
type pulumiRPCInfo struct {
	RootDirectory    string
	ProgramDirectory string
	EntryPoint       string
	Pwd              string
}

func infoOf(info *pulumirpc.ProgramInfo, pwd string) *pulumiRPCInfo {
	out := &pulumiRPCInfo{Pwd: pwd}
	if info != nil {
		out.RootDirectory = info.GetRootDirectory()
		out.ProgramDirectory = info.GetProgramDirectory()
		out.EntryPoint = info.GetEntryPoint()
	}
	return out
}

// findSDKScript walks up from dir looking for
// node_modules/@pulumi/pulumi/cmd/<name> (Node's own module resolution order).
func findSDKScript(dir, name string) (string, error) {
	start := dir
	for {
		p := filepath.Join(dir, "node_modules", "@pulumi", "pulumi", "cmd", name)
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("could not find node_modules/@pulumi/pulumi/cmd/%s above %s: "+
				"install the project's dependencies (npm install) first", name, start)
		}
		dir = parent
	}
}

func nodeExecutable() (string, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return "", errors.New("could not find the 'node' executable on PATH")
	}
	return node, nil
}

// nodeInvocation is one start of node: the working directory, the argv after
// the node executable, and the complete environment of the child.
type nodeInvocation struct {
	Dir  string
	Args []string
	Env  []string
}

// programPath is the program node is asked to load: the entry point of
// Pulumi.yaml inside dir, or dir itself (its package.json "main").
func programPath(dir, entryPoint string) string {
	if entryPoint != "" && entryPoint != "." {
		return filepath.Join(dir, entryPoint)
	}
	return dir
}

// workDir is the directory node runs in: the engine's pwd when it sent one,
// otherwise the program directory.
func workDir(dir, pwd string) string {
	if pwd != "" {
		return pwd
	}
	return dir
}

// nodeArgv lays out node's argv: the runtime.options.nodeargs, the SDK entry
// script, that script's flags, the program and the program's own arguments.
func nodeArgv(opts options, script string, flags []string, program string, programArgs []string) []string {
	args := append([]string{}, opts.nodeargs...)
	args = append(args, script)
	args = append(args, flags...)
	args = append(args, program)
	return append(args, programArgs...)
}

// nodeOptionsEnv maps runtime.options onto the PULUMI_NODEJS_* variables that
// the SDK's entry scripts read.
func nodeOptionsEnv(opts options) []string {
	env := []string{"PULUMI_NODEJS_TYPESCRIPT=" + strconv.FormatBool(opts.typescript)}
	if opts.tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+opts.tsconfig)
	}
	return env
}

// runFlags maps a RunRequest (plus the engine address and tracing endpoint
// this host was started with) onto the flags of @pulumi/pulumi's cmd/run.
func runFlags(req *pulumirpc.RunRequest, rootDirectory, engineAddress, tracing string) []string {
	var flags []string
	if req.GetMonitorAddress() != "" {
		flags = append(flags, "--monitor="+req.GetMonitorAddress())
	}
	if engineAddress != "" {
		flags = append(flags, "--engine="+engineAddress)
	}
	if req.GetOrganization() != "" {
		flags = append(flags, "--organization="+req.GetOrganization())
	}
	if req.GetProject() != "" {
		flags = append(flags, "--project="+req.GetProject())
	}
	if req.GetStack() != "" {
		flags = append(flags, "--stack="+req.GetStack())
	}
	if rootDirectory != "" {
		flags = append(flags, "--root-directory="+rootDirectory)
	}
	if req.GetPwd() != "" {
		flags = append(flags, "--pwd="+req.GetPwd())
	}
	if req.GetDryRun() {
		flags = append(flags, "--dry-run")
	}
	if req.GetParallel() > 0 {
		flags = append(flags, "--parallel="+strconv.Itoa(int(req.GetParallel())))
	}
	if tracing != "" {
		flags = append(flags, "--tracing="+tracing)
	}
	return flags
}

// configEnv maps the stack configuration onto PULUMI_CONFIG (a JSON object)
// and PULUMI_CONFIG_SECRET_KEYS (a JSON array, never null).
func configEnv(config map[string]string, secretKeys []string) ([]string, error) {
	cfg, err := json.Marshal(config)
	if err != nil {
		return nil, err
	}
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secrets, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, err
	}
	return []string{
		"PULUMI_CONFIG=" + string(cfg),
		"PULUMI_CONFIG_SECRET_KEYS=" + string(secrets),
	}, nil
}

// runInvocation is how Run starts a program through runScript (cmd/run):
// baseEnv (the host's environment) plus the configuration and options.
func runInvocation(req *pulumirpc.RunRequest, runScript, engineAddress, tracing string,
	baseEnv []string,
) (nodeInvocation, error) {
	info := infoOf(req.GetInfo(), req.GetPwd())
	dir := programDir(info)
	opts := parseOptions(req.GetInfo())

	program := programPath(dir, info.EntryPoint)
	if req.GetInfo() == nil && req.GetProgram() != "" {
		program = req.GetProgram()
	}
	cfg, err := configEnv(req.GetConfig(), req.GetConfigSecretKeys())
	if err != nil {
		return nodeInvocation{}, err
	}
	env := append(append([]string{}, baseEnv...), cfg...)
	return nodeInvocation{
		Dir:  workDir(dir, req.GetPwd()),
		Args: nodeArgv(opts, runScript, runFlags(req, info.RootDirectory, engineAddress, tracing), program, req.GetArgs()),
		Env:  append(env, nodeOptionsEnv(opts)...),
	}, nil
}

// pluginScript names the SDK entry script for a plugin of the given kind.
func pluginScript(kind string) string {
	if kind == "analyzer" {
		return "run-policy-pack"
	}
	return "run-plugin"
}

// pluginInvocation is how RunPlugin starts a plugin through runScript
// (cmd/run-plugin or cmd/run-policy-pack): only the engine-supplied
// environment plus the options, no flags.
func pluginInvocation(req *pulumirpc.RunPluginRequest, runScript string) nodeInvocation {
	info := infoOf(req.GetInfo(), req.GetPwd())
	dir := programDir(info)
	opts := parseOptions(req.GetInfo())
	env := append([]string{}, req.GetEnv()...)
	return nodeInvocation{
		Dir:  workDir(dir, req.GetPwd()),
		Args: nodeArgv(opts, runScript, nil, programPath(dir, info.EntryPoint), req.GetArgs()),
		Env:  append(env, nodeOptionsEnv(opts)...),
	}
}

func (h *host) Handshake(ctx context.Context,
	req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	if req.GetEngineAddress() != "" {
		h.engineAddress = req.GetEngineAddress()
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) GetPluginInfo(ctx context.Context, _ *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: strings.TrimPrefix(version.Version, "v")}, nil
}

func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	dir := programDir(infoOf(req.GetInfo(), req.GetPwd()))

	node, err := nodeExecutable()
	if err != nil {
		return nil, err
	}
	runScript, err := findSDKScript(dir, "run")
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}

	inv, err := runInvocation(req, runScript, h.engineAddress, h.tracing, os.Environ())
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(node, inv.Args...)
	cmd.Dir = inv.Dir
	cmd.Env = inv.Env
	// Output of the program goes to this plugin's stdout/stderr, which the
	// engine forwards to the user.
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr

	if err := cmd.Start(); err != nil {
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not start %s: %v", node, err)}, nil
	}
	stop := context.AfterFunc(ctx, func() { _ = cmd.Process.Signal(syscall.SIGINT) })
	defer stop()

	if err := cmd.Wait(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			if exitErr.ExitCode() == bailExitCode {
				return &pulumirpc.RunResponse{Bail: true}, nil
			}
			if exitErr.ExitCode() >= 0 {
				return &pulumirpc.RunResponse{
					Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exitErr.ExitCode()),
				}, nil
			}
		}
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("Program exited unexpectedly: %v", err)}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

// pulumiPackageJSON is the subset of package.json this host reads.
type pulumiPackageJSON struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Pulumi  *struct {
		Resource         bool   `json:"resource"`
		Name             string `json:"name"`
		Version          string `json:"version"`
		Server           string `json:"server"`
		Parameterization *struct {
			Name    string `json:"name"`
			Version string `json:"version"`
			Value   []byte `json:"value"` // base64 in JSON
		} `json:"parameterization"`
	} `json:"pulumi"`
}

// requiredPackages walks node_modules (nested ones included) and returns the
// Pulumi resource plugins declared by installed packages.
func requiredPackages(dir string) ([]*pulumirpc.PackageDependency, error) {
	nodeModules := ""
	for d := dir; ; d = filepath.Dir(d) {
		if st, err := os.Stat(filepath.Join(d, "node_modules")); err == nil && st.IsDir() {
			nodeModules = filepath.Join(d, "node_modules")
			break
		}
		if filepath.Dir(d) == d {
			return nil, nil
		}
	}

	seen := map[string]*pulumirpc.PackageDependency{}
	var visit func(modules string, depth int)
	visit = func(modules string, depth int) {
		if depth > 16 {
			return
		}
		entries, err := os.ReadDir(modules)
		if err != nil {
			return
		}
		for _, e := range entries {
			name := e.Name()
			if strings.HasPrefix(name, ".") {
				continue
			}
			path := filepath.Join(modules, name)
			if strings.HasPrefix(name, "@") {
				visit(path, depth) // scope folder: its children are packages
				continue
			}
			if st, err := os.Stat(path); err != nil || !st.IsDir() {
				continue
			}
			if b, err := os.ReadFile(filepath.Join(path, "package.json")); err == nil {
				var pkg pulumiPackageJSON
				if json.Unmarshal(b, &pkg) == nil && pkg.Pulumi != nil && pkg.Pulumi.Resource {
					dep := &pulumirpc.PackageDependency{
						Kind:    "resource",
						Name:    pkg.Pulumi.Name,
						Version: pkg.Pulumi.Version,
						Server:  pkg.Pulumi.Server,
					}
					if dep.Name == "" {
						dep.Name = strings.TrimPrefix(pkg.Name, "@pulumi/")
					}
					if dep.Version == "" {
						dep.Version = pkg.Version
					}
					if p := pkg.Pulumi.Parameterization; p != nil {
						dep.Parameterization = &pulumirpc.PackageParameterization{
							Name: p.Name, Version: p.Version, Value: p.Value,
						}
					}
					key := dep.Name + "@" + dep.Version
					if dep.Parameterization != nil {
						key += "/" + dep.Parameterization.Name + "@" + dep.Parameterization.Version
					}
					seen[key] = dep
				}
			}
			visit(filepath.Join(path, "node_modules"), depth+1)
		}
	}
	visit(nodeModules, 0)

	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]*pulumirpc.PackageDependency, 0, len(keys))
	for _, k := range keys {
		out = append(out, seen[k])
	}
	return out, nil
}

func (h *host) GetRequiredPackages(ctx context.Context,
	req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	pkgs, err := requiredPackages(programDir(infoOf(req.GetInfo(), "")))
	if err != nil {
		return nil, err
	}
	return &pulumirpc.GetRequiredPackagesResponse{Packages: pkgs}, nil
}

func (h *host) GetRequiredPlugins(ctx context.Context,
	req *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	pkgs, err := requiredPackages(programDir(infoOf(req.GetInfo(), req.GetPwd())))
	if err != nil {
		return nil, err
	}
	plugins := make([]*pulumirpc.PluginDependency, 0, len(pkgs))
	for _, p := range pkgs {
		if p.Parameterization != nil {
			continue
		}
		plugins = append(plugins, &pulumirpc.PluginDependency{
			Name: p.Name, Kind: p.Kind, Version: p.Version, Server: p.Server,
		})
	}
	return &pulumirpc.GetRequiredPluginsResponse{Plugins: plugins}, nil
}

// outputWriter forwards each write of a child's stdout or stderr to the
// engine as one streamed response. The bytes are copied (the caller may reuse
// its buffer) and both streams of one child share mu, so sends never overlap.
type outputWriter struct {
	mu     *sync.Mutex
	send   func(b []byte, stderr bool) error
	stderr bool
}

func (w outputWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.send(append([]byte(nil), p...), w.stderr); err != nil {
		return 0, err
	}
	return len(p), nil
}

// outputWriters returns the stdout and stderr writers of one child process.
func outputWriters(send func(b []byte, stderr bool) error) (stdout, stderr outputWriter) {
	mu := &sync.Mutex{}
	return outputWriter{mu: mu, send: send}, outputWriter{mu: mu, send: send, stderr: true}
}

// installOutput maps a chunk of package-manager output onto an
// InstallDependencies response.
func installOutput(b []byte, stderr bool) *pulumirpc.InstallDependenciesResponse {
	if stderr {
		return &pulumirpc.InstallDependenciesResponse{Stderr: b}
	}
	return &pulumirpc.InstallDependenciesResponse{Stdout: b}
}

// pluginOutput maps a chunk of plugin output onto a RunPlugin response.
func pluginOutput(b []byte, stderr bool) *pulumirpc.RunPluginResponse {
	if stderr {
		return &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: b}}
	}
	return &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: b}}
}

func (h *host) InstallDependencies(req *pulumirpc.InstallDependenciesRequest,
	server pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	dir := programDir(infoOf(req.GetInfo(), req.GetDirectory()))
	opts := parseOptions(req.GetInfo())
	stdout, stderr := outputWriters(func(b []byte, isStderr bool) error {
		return server.Send(installOutput(b, isStderr))
	})
	name, err := npm.Install(server.Context(), opts.packagemanager, dir, false /*production*/, stdout, stderr)
	if err != nil {
		return fmt.Errorf("%s install failed in %s: %w", name, dir, err)
	}
	_, _ = fmt.Fprintf(stdout, "Finished installing dependencies with %s\n", name)
	return nil
}

func (h *host) GetProgramDependencies(ctx context.Context,
	req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	info := infoOf(req.GetInfo(), req.GetPwd())
	dir := programDir(info)
	opts := parseOptions(req.GetInfo())
	pm, err := npm.ResolvePackageManager(opts.packagemanager, dir)
	if err != nil {
		return nil, err
	}
	deps, err := pm.ListPackages(ctx, dir, req.GetTransitiveDependencies())
	if err != nil {
		return nil, fmt.Errorf("listing packages with %s: %w", pm.Name(), err)
	}
	out := make([]*pulumirpc.DependencyInfo, 0, len(deps))
	for _, d := range deps {
		out = append(out, &pulumirpc.DependencyInfo{Name: d.Name, Version: d.Version})
	}
	return &pulumirpc.GetProgramDependenciesResponse{Dependencies: out}, nil
}

func (h *host) About(ctx context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	node, err := nodeExecutable()
	if err != nil {
		return nil, err
	}
	out, err := exec.CommandContext(ctx, node, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("running %s --version: %w", node, err)
	}
	return &pulumirpc.AboutResponse{
		Executable: node,
		Version:    strings.TrimPrefix(strings.TrimSpace(string(out)), "v"),
	}, nil
}

func (h *host) RuntimeOptionsPrompts(ctx context.Context,
	req *pulumirpc.RuntimeOptionsRequest,
) (*pulumirpc.RuntimeOptionsResponse, error) {
	return &pulumirpc.RuntimeOptionsResponse{}, nil
}

// RunPlugin runs a plugin (provider or policy pack) written in Node.js, e.g.
// a directory with PulumiPlugin.yaml `runtime: nodejs`.
func (h *host) RunPlugin(req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer) error {
	dir := programDir(infoOf(req.GetInfo(), req.GetPwd()))
	node, err := nodeExecutable()
	if err != nil {
		return err
	}
	runScript, err := findSDKScript(dir, pluginScript(req.GetKind()))
	if err != nil {
		return err
	}
	inv := pluginInvocation(req, runScript)
	cmd := exec.CommandContext(server.Context(), node, inv.Args...)
	cmd.Dir = inv.Dir
	cmd.Env = inv.Env
	cmd.Stdout, cmd.Stderr = outputWriters(func(b []byte, isStderr bool) error {
		return server.Send(pluginOutput(b, isStderr))
	})

	code := 0
	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) {
			return err
		}
		code = exitErr.ExitCode()
	}
	return server.Send(&pulumirpc.RunPluginResponse{
		Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(code)},
	})
}

func main() {
	flag.String("root", "", "[ignored] project root directory")
	tracing := flag.String("tracing", "", "emit tracing to a Zipkin-compatible tracing endpoint")
	flag.Bool("typescript", true, "[ignored] use runtime.options.typescript in Pulumi.yaml instead")
	flag.String("tsconfig", "", "[ignored] use runtime.options.tsconfig in Pulumi.yaml instead")
	flag.String("nodeargs", "", "[ignored] use runtime.options.nodeargs in Pulumi.yaml instead")
	flag.Parse()

	h := &host{tracing: *tracing}
	if args := flag.Args(); len(args) > 0 {
		h.engineAddress = args[0]
	}

	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, h)
			return nil
		},
		Options: rpcutil.OpenTracingServerInterceptorOptions(nil),
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "fatal: could not start language host RPC server: %v\n", err)
		os.Exit(1)
	}

	// The engine reads the port from the first line of stdout.
	fmt.Printf("%d\n", handle.Port)

	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "fatal: language host RPC server stopped: %v\n", err)
		os.Exit(1)
	}
}
