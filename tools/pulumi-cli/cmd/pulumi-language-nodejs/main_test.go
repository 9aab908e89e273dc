package main

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"strconv"
	"testing"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// programInfo builds a ProgramInfo with runtime.options (nil: no options).
func programInfo(t *testing.T, root, dir, entry string, runtimeOptions map[string]any) *pulumirpc.ProgramInfo {
	t.Helper()
	info := &pulumirpc.ProgramInfo{RootDirectory: root, ProgramDirectory: dir, EntryPoint: entry}
	if runtimeOptions != nil {
		s, err := structpb.NewStruct(runtimeOptions)
		if err != nil {
			t.Fatalf("structpb.NewStruct(%v): %v", runtimeOptions, err)
		}
		info.Options = s
	}
	return info
}

func TestParseOptions(t *testing.T) {
	tests := []struct {
		name    string
		options map[string]any // nil: a ProgramInfo without options
		noInfo  bool           // no ProgramInfo at all
		want    options
	}{
		{name: "no ProgramInfo", noInfo: true,
			want: options{typescript: true, packagemanager: "auto"}},
		{name: "no options",
			want: options{typescript: true, packagemanager: "auto"}},
		{name: "typescript off", options: map[string]any{"typescript": false},
			want: options{typescript: false, packagemanager: "auto"}},
		{name: "tsconfig", options: map[string]any{"tsconfig": "tsconfig.build.json"},
			want: options{typescript: true, tsconfig: "tsconfig.build.json", packagemanager: "auto"}},
		{name: "nodeargs split on whitespace", options: map[string]any{"nodeargs": "  --inspect\t--max-old-space-size=4096 "},
			want: options{typescript: true, nodeargs: []string{"--inspect", "--max-old-space-size=4096"}, packagemanager: "auto"}},
		{name: "blank nodeargs ignored", options: map[string]any{"nodeargs": "   "},
			want: options{typescript: true, packagemanager: "auto"}},
		{name: "packagemanager", options: map[string]any{"packagemanager": "pnpm"},
			want: options{typescript: true, packagemanager: "pnpm"}},
		{name: "empty packagemanager keeps auto", options: map[string]any{"packagemanager": ""},
			want: options{typescript: true, packagemanager: "auto"}},
		{name: "wrongly typed values ignored",
			options: map[string]any{"typescript": "false", "tsconfig": 3.0, "nodeargs": true, "packagemanager": 1.0},
			want:    options{typescript: true, packagemanager: "auto"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var info *pulumirpc.ProgramInfo
			if !tt.noInfo {
				info = programInfo(t, "/r", "/r", ".", tt.options)
			}
			if got := parseOptions(info); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parseOptions = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestRunFlags(t *testing.T) {
	tests := []struct {
		name    string
		req     *pulumirpc.RunRequest
		root    string
		engine  string
		tracing string
		want    []string
	}{
		{name: "empty request", req: &pulumirpc.RunRequest{}, want: nil},
		{name: "monitor", req: &pulumirpc.RunRequest{MonitorAddress: "127.0.0.1:4001"},
			want: []string{"--monitor=127.0.0.1:4001"}},
		{name: "engine from the host", req: &pulumirpc.RunRequest{}, engine: "127.0.0.1:4002",
			want: []string{"--engine=127.0.0.1:4002"}},
		{name: "organization", req: &pulumirpc.RunRequest{Organization: "acme"},
			want: []string{"--organization=acme"}},
		{name: "project", req: &pulumirpc.RunRequest{Project: "house"},
			want: []string{"--project=house"}},
		{name: "stack", req: &pulumirpc.RunRequest{Stack: "dev"},
			want: []string{"--stack=dev"}},
		{name: "root directory", req: &pulumirpc.RunRequest{}, root: "/srv/house",
			want: []string{"--root-directory=/srv/house"}},
		{name: "pwd", req: &pulumirpc.RunRequest{Pwd: "/srv/house/app"},
			want: []string{"--pwd=/srv/house/app"}},
		{name: "dry run", req: &pulumirpc.RunRequest{DryRun: true},
			want: []string{"--dry-run"}},
		{name: "parallel", req: &pulumirpc.RunRequest{Parallel: 16},
			want: []string{"--parallel=16"}},
		{name: "parallel zero omitted", req: &pulumirpc.RunRequest{Parallel: 0}, want: nil},
		{name: "parallel negative omitted", req: &pulumirpc.RunRequest{Parallel: -1}, want: nil},
		{name: "tracing from the host", req: &pulumirpc.RunRequest{}, tracing: "http://zipkin:9411",
			want: []string{"--tracing=http://zipkin:9411"}},
		{name: "not mapped to flags: config, args, program",
			req:  &pulumirpc.RunRequest{Config: map[string]string{"a:b": "c"}, Args: []string{"x"}, Program: "/p"},
			want: nil},
		{name: "everything, in cmd/run's order",
			req: &pulumirpc.RunRequest{
				MonitorAddress: "m:1", Organization: "o", Project: "p", Stack: "s",
				Pwd: "/w", DryRun: true, Parallel: 4,
			},
			root: "/r", engine: "e:2", tracing: "t",
			want: []string{
				"--monitor=m:1", "--engine=e:2", "--organization=o", "--project=p", "--stack=s",
				"--root-directory=/r", "--pwd=/w", "--dry-run", "--parallel=4", "--tracing=t",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runFlags(tt.req, tt.root, tt.engine, tt.tracing)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("runFlags = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestConfigEnv(t *testing.T) {
	tests := []struct {
		name       string
		config     map[string]string
		secretKeys []string
		want       []string
	}{
		{name: "nothing", want: []string{"PULUMI_CONFIG=null", "PULUMI_CONFIG_SECRET_KEYS=[]"}},
		{name: "empty", config: map[string]string{}, secretKeys: []string{},
			want: []string{"PULUMI_CONFIG={}", "PULUMI_CONFIG_SECRET_KEYS=[]"}},
		{name: "keys sorted, secrets listed in order",
			config:     map[string]string{"house:b": "2", "house:a": "1", "house:pw": "hunter2"},
			secretKeys: []string{"house:pw", "house:a"},
			want: []string{
				`PULUMI_CONFIG={"house:a":"1","house:b":"2","house:pw":"hunter2"}`,
				`PULUMI_CONFIG_SECRET_KEYS=["house:pw","house:a"]`,
			}},
		{name: "values JSON-escaped (HTML-safe, as encoding/json does)",
			config: map[string]string{"k": "a \"q\" <b> & \\ \n"},
			want: []string{
				`PULUMI_CONFIG={"k":"a \"q\" \u003cb\u003e \u0026 \\ \n"}`,
				"PULUMI_CONFIG_SECRET_KEYS=[]",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := configEnv(tt.config, tt.secretKeys)
			if err != nil {
				t.Fatalf("configEnv: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("configEnv =\n %q\nwant\n %q", got, tt.want)
			}
		})
	}
}

func TestNodeOptionsEnv(t *testing.T) {
	tests := []struct {
		opts options
		want []string
	}{
		{options{typescript: true}, []string{"PULUMI_NODEJS_TYPESCRIPT=true"}},
		{options{typescript: false}, []string{"PULUMI_NODEJS_TYPESCRIPT=false"}},
		{options{typescript: true, tsconfig: "tsconfig.prod.json"},
			[]string{"PULUMI_NODEJS_TYPESCRIPT=true", "PULUMI_NODEJS_TSCONFIG_PATH=tsconfig.prod.json"}},
		// nodeargs and the package manager are not environment.
		{options{typescript: false, nodeargs: []string{"--inspect"}, packagemanager: "yarn"},
			[]string{"PULUMI_NODEJS_TYPESCRIPT=false"}},
	}
	for i, tt := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			if got := nodeOptionsEnv(tt.opts); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("nodeOptionsEnv(%+v) = %q, want %q", tt.opts, got, tt.want)
			}
		})
	}
}

func TestProgramPathWorkDirNodeArgv(t *testing.T) {
	for _, tt := range []struct{ dir, entry, want string }{
		{"/app", "", "/app"},
		{"/app", ".", "/app"},
		{"/app", "index.ts", "/app/index.ts"},
		{"/app", "src/main.js", "/app/src/main.js"},
		{"/app", "./bin/", "/app/bin"},
	} {
		if got := programPath(tt.dir, tt.entry); got != tt.want {
			t.Errorf("programPath(%q, %q) = %q, want %q", tt.dir, tt.entry, got, tt.want)
		}
	}
	for _, tt := range []struct{ dir, pwd, want string }{
		{"/app", "", "/app"},
		{"/app", "/elsewhere", "/elsewhere"},
	} {
		if got := workDir(tt.dir, tt.pwd); got != tt.want {
			t.Errorf("workDir(%q, %q) = %q, want %q", tt.dir, tt.pwd, got, tt.want)
		}
	}

	opts := options{nodeargs: []string{"--a", "--b"}}
	got := nodeArgv(opts, "/s/cmd/run", []string{"--f1", "--f2"}, "/app", []string{"x", "y"})
	want := []string{"--a", "--b", "/s/cmd/run", "--f1", "--f2", "/app", "x", "y"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("nodeArgv = %q, want %q", got, want)
	}
	if got := nodeArgv(options{}, "/s", nil, "/app", nil); !reflect.DeepEqual(got, []string{"/s", "/app"}) {
		t.Errorf("nodeArgv without extras = %q", got)
	}
	// nodeArgv must not write into the options' slice.
	opts = options{nodeargs: make([]string, 1, 8)}
	opts.nodeargs[0] = "--a"
	_ = nodeArgv(opts, "/s", nil, "/app", nil)
	if extra := opts.nodeargs[:2][1]; extra != "" {
		t.Errorf("nodeArgv appended into options.nodeargs' backing array: %q", extra)
	}
}

func TestRunInvocation(t *testing.T) {
	base := []string{"PATH=/usr/bin", "HOME=/root"}
	tests := []struct {
		name    string
		req     *pulumirpc.RunRequest
		engine  string
		tracing string
		want    nodeInvocation
	}{
		{
			name: "preview with options, entry point and config",
			req: &pulumirpc.RunRequest{
				Info: programInfo(t, "/srv/house", "/srv/house/infra", "index.ts", map[string]any{
					"typescript": false, "tsconfig": "tsconfig.json", "nodeargs": "--enable-source-maps",
				}),
				MonitorAddress:   "127.0.0.1:5000",
				Project:          "house",
				Stack:            "dev",
				Organization:     "organization",
				Pwd:              "/srv/house",
				DryRun:           true,
				Parallel:         8,
				Config:           map[string]string{"house:name": "home", "house:token": "s3cret"},
				ConfigSecretKeys: []string{"house:token"},
				Args:             []string{"--extra"},
				Program:          "/ignored/when/info/is/set",
			},
			engine:  "127.0.0.1:5001",
			tracing: "file:/tmp/trace.json",
			want: nodeInvocation{
				Dir: "/srv/house",
				Args: []string{
					"--enable-source-maps",
					"/s/cmd/run",
					"--monitor=127.0.0.1:5000", "--engine=127.0.0.1:5001", "--organization=organization",
					"--project=house", "--stack=dev", "--root-directory=/srv/house", "--pwd=/srv/house",
					"--dry-run", "--parallel=8", "--tracing=file:/tmp/trace.json",
					"/srv/house/infra/index.ts",
					"--extra",
				},
				Env: []string{
					"PATH=/usr/bin", "HOME=/root",
					`PULUMI_CONFIG={"house:name":"home","house:token":"s3cret"}`,
					`PULUMI_CONFIG_SECRET_KEYS=["house:token"]`,
					"PULUMI_NODEJS_TYPESCRIPT=false",
					"PULUMI_NODEJS_TSCONFIG_PATH=tsconfig.json",
				},
			},
		},
		{
			name: "up, defaults, no pwd: runs in the program directory",
			req: &pulumirpc.RunRequest{
				Info:           programInfo(t, "/p", "/p", ".", nil),
				MonitorAddress: "m:1",
				Stack:          "prod",
			},
			want: nodeInvocation{
				Dir:  "/p",
				Args: []string{"/s/cmd/run", "--monitor=m:1", "--stack=prod", "--root-directory=/p", "/p"},
				Env: []string{"PATH=/usr/bin", "HOME=/root",
					"PULUMI_CONFIG=null", "PULUMI_CONFIG_SECRET_KEYS=[]", "PULUMI_NODEJS_TYPESCRIPT=true"},
			},
		},
		{
			name: "old engine without ProgramInfo: pwd and req.Program",
			req:  &pulumirpc.RunRequest{Pwd: "/old", Program: "./main.js"},
			want: nodeInvocation{
				Dir:  "/old",
				Args: []string{"/s/cmd/run", "--pwd=/old", "./main.js"},
				Env: []string{"PATH=/usr/bin", "HOME=/root",
					"PULUMI_CONFIG=null", "PULUMI_CONFIG_SECRET_KEYS=[]", "PULUMI_NODEJS_TYPESCRIPT=true"},
			},
		},
		{
			name: "ProgramInfo wins over req.Program",
			req:  &pulumirpc.RunRequest{Info: programInfo(t, "", "/q", "", nil), Program: "/elsewhere"},
			want: nodeInvocation{
				Dir:  "/q",
				Args: []string{"/s/cmd/run", "/q"},
				Env: []string{"PATH=/usr/bin", "HOME=/root",
					"PULUMI_CONFIG=null", "PULUMI_CONFIG_SECRET_KEYS=[]", "PULUMI_NODEJS_TYPESCRIPT=true"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := runInvocation(tt.req, "/s/cmd/run", tt.engine, tt.tracing, base)
			if err != nil {
				t.Fatalf("runInvocation: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("runInvocation =\n %#v\nwant\n %#v", got, tt.want)
			}
		})
	}
	// The base environment is copied, not appended into.
	b := make([]string, 1, 16)
	b[0] = "A=1"
	if _, err := runInvocation(&pulumirpc.RunRequest{Pwd: "/x"}, "/s", "", "", b); err != nil {
		t.Fatal(err)
	}
	if s := b[:2][1]; s != "" {
		t.Errorf("runInvocation wrote %q into the base environment's backing array", s)
	}
}

func TestPluginScript(t *testing.T) {
	for kind, want := range map[string]string{
		"analyzer": "run-policy-pack",
		"resource": "run-plugin",
		"tool":     "run-plugin",
		"":         "run-plugin",
	} {
		if got := pluginScript(kind); got != want {
			t.Errorf("pluginScript(%q) = %q, want %q", kind, got, want)
		}
	}
}

func TestPluginInvocation(t *testing.T) {
	tests := []struct {
		name string
		req  *pulumirpc.RunPluginRequest
		want nodeInvocation
	}{
		{
			name: "provider with options: engine env only, no cmd/run flags",
			req: &pulumirpc.RunPluginRequest{
				Info: programInfo(t, "/plug", "/plug", "dist/index.js", map[string]any{
					"typescript": true, "tsconfig": "tsconfig.plugin.json", "nodeargs": "--no-warnings --inspect",
				}),
				Pwd:  "/plug/work",
				Args: []string{"127.0.0.1:7000"},
				Env:  []string{"PULUMI_RUNTIME_X=1"},
				Kind: "resource",
			},
			want: nodeInvocation{
				Dir: "/plug/work",
				Args: []string{"--no-warnings", "--inspect", "/s/run-plugin",
					"/plug/dist/index.js", "127.0.0.1:7000"},
				Env: []string{"PULUMI_RUNTIME_X=1",
					"PULUMI_NODEJS_TYPESCRIPT=true", "PULUMI_NODEJS_TSCONFIG_PATH=tsconfig.plugin.json"},
			},
		},
		{
			name: "policy pack, defaults, no env from the engine",
			req: &pulumirpc.RunPluginRequest{
				Info: programInfo(t, "/pol", "/pol", ".", nil),
				Kind: "analyzer",
			},
			want: nodeInvocation{
				Dir:  "/pol",
				Args: []string{"/s/run-policy-pack", "/pol"},
				Env:  []string{"PULUMI_NODEJS_TYPESCRIPT=true"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			script := "/s/" + pluginScript(tt.req.GetKind())
			if got := pluginInvocation(tt.req, script); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("pluginInvocation =\n %#v\nwant\n %#v", got, tt.want)
			}
		})
	}
	// The request's Env is copied, not appended into.
	env := make([]string, 1, 16)
	env[0] = "A=1"
	_ = pluginInvocation(&pulumirpc.RunPluginRequest{Pwd: "/x", Env: env}, "/s")
	if s := env[:2][1]; s != "" {
		t.Errorf("pluginInvocation wrote %q into the request's Env backing array", s)
	}
}

// TestFoldSameInputsSameMapping: given the same program and runtime options,
// Run and RunPlugin agree on everything they share (node args before the
// script, program path, working directory, PULUMI_NODEJS_* environment).
func TestFoldSameInputsSameMapping(t *testing.T) {
	for _, tc := range []struct {
		entry, pwd string
		options    map[string]any
	}{
		{"", "", nil},
		{"index.js", "/cwd", map[string]any{"typescript": false, "nodeargs": "--trace-warnings"}},
		{"src/x.ts", "", map[string]any{"tsconfig": "t.json", "nodeargs": "-r ts-node/register"}},
	} {
		info := programInfo(t, "/root", "/root/prog", tc.entry, tc.options)
		run, err := runInvocation(&pulumirpc.RunRequest{Info: info, Pwd: tc.pwd, Args: []string{"a"}},
			"/s/run", "", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		plugin := pluginInvocation(&pulumirpc.RunPluginRequest{Info: info, Pwd: tc.pwd, Args: []string{"a"}},
			"/s/run-plugin")

		n := len(parseOptions(info).nodeargs)
		if !reflect.DeepEqual(run.Args[:n], plugin.Args[:n]) {
			t.Errorf("%v: node args differ: %q vs %q", tc, run.Args[:n], plugin.Args[:n])
		}
		// program then the program's arguments close both command lines.
		if !reflect.DeepEqual(run.Args[len(run.Args)-2:], plugin.Args[len(plugin.Args)-2:]) {
			t.Errorf("%v: program/args differ: %q vs %q", tc, run.Args, plugin.Args)
		}
		if run.Dir != plugin.Dir {
			t.Errorf("%v: working directory differs: %q vs %q", tc, run.Dir, plugin.Dir)
		}
		optsEnv := nodeOptionsEnv(parseOptions(info))
		if !reflect.DeepEqual(run.Env[len(run.Env)-len(optsEnv):], optsEnv) ||
			!reflect.DeepEqual(plugin.Env, optsEnv) {
			t.Errorf("%v: options env differ: run %q, plugin %q, want suffix %q", tc, run.Env, plugin.Env, optsEnv)
		}
	}
}

// TestFoldOneOwnerPerMapping reads main.go and checks the fold structurally:
// the former twin paths (Run / RunPlugin, InstallDependencies / RunPlugin)
// call the same helpers, and each flag or variable name is spelled in
// exactly one function, so a second copy of a mapping cannot creep back.
func TestFoldOneOwnerPerMapping(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "main.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	calls := map[string]map[string]bool{} // function -> called identifiers
	literals := map[string][]string{}     // string literal -> functions spelling it
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok {
			continue
		}
		name := fn.Name.Name
		calls[name] = map[string]bool{}
		ast.Inspect(fn, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				if id, ok := n.Fun.(*ast.Ident); ok {
					calls[name][id.Name] = true
				}
			case *ast.BasicLit:
				if n.Kind == token.STRING {
					s, err := strconv.Unquote(n.Value)
					if err == nil {
						literals[s] = append(literals[s], name)
					}
				}
			}
			return true
		})
	}

	shared := map[string][]string{
		// helper: the former twin paths that must both use it
		"nodeArgv":         {"runInvocation", "pluginInvocation"},
		"nodeOptionsEnv":   {"runInvocation", "pluginInvocation"},
		"programPath":      {"runInvocation", "pluginInvocation"},
		"workDir":          {"runInvocation", "pluginInvocation"},
		"parseOptions":     {"runInvocation", "pluginInvocation"},
		"outputWriters":    {"InstallDependencies", "RunPlugin"},
		"runInvocation":    {"Run"},
		"pluginInvocation": {"RunPlugin"},
		"runFlags":         {"runInvocation"},
		"configEnv":        {"runInvocation"},
		"pluginScript":     {"RunPlugin"},
	}
	for helper, users := range shared {
		for _, user := range users {
			if !calls[user][helper] {
				t.Errorf("%s does not call %s", user, helper)
			}
		}
	}

	owners := map[string]string{
		"PULUMI_NODEJS_TYPESCRIPT=":    "nodeOptionsEnv",
		"PULUMI_NODEJS_TSCONFIG_PATH=": "nodeOptionsEnv",
		"PULUMI_CONFIG=":               "configEnv",
		"PULUMI_CONFIG_SECRET_KEYS=":   "configEnv",
		"--monitor=":                   "runFlags",
		"--engine=":                    "runFlags",
		"--organization=":              "runFlags",
		"--project=":                   "runFlags",
		"--stack=":                     "runFlags",
		"--root-directory=":            "runFlags",
		"--pwd=":                       "runFlags",
		"--dry-run":                    "runFlags",
		"--parallel=":                  "runFlags",
		"--tracing=":                   "runFlags",
		"run-plugin":                   "pluginScript",
		"run-policy-pack":              "pluginScript",
	}
	for lit, owner := range owners {
		if got := literals[lit]; !reflect.DeepEqual(got, []string{owner}) {
			t.Errorf("%q is spelled in %q, want only in %s", lit, got, owner)
		}
	}
}

func TestOutputWriters(t *testing.T) {
	type sent struct {
		b      string
		stderr bool
	}
	var got []sent
	stdout, stderr := outputWriters(func(b []byte, isStderr bool) error {
		got = append(got, sent{string(b), isStderr})
		return nil
	})
	if stdout.mu != stderr.mu {
		t.Error("stdout and stderr do not share one lock")
	}
	buf := []byte("out")
	if n, err := stdout.Write(buf); n != 3 || err != nil {
		t.Errorf("stdout.Write = %d, %v", n, err)
	}
	copy(buf, "XXX") // the writer must have copied the caller's buffer
	if n, err := stderr.Write([]byte("err!")); n != 4 || err != nil {
		t.Errorf("stderr.Write = %d, %v", n, err)
	}
	if want := []sent{{"out", false}, {"err!", true}}; !reflect.DeepEqual(got, want) {
		t.Errorf("sent %+v, want %+v", got, want)
	}

	boom := errors.New("stream closed")
	w, _ := outputWriters(func([]byte, bool) error { return boom })
	if n, err := w.Write([]byte("x")); n != 0 || !errors.Is(err, boom) {
		t.Errorf("Write on a failing stream = %d, %v; want 0, %v", n, err, boom)
	}
}

func TestOutputResponses(t *testing.T) {
	b := []byte("chunk")
	for _, tt := range []struct {
		got, want proto.Message
	}{
		{installOutput(b, false), &pulumirpc.InstallDependenciesResponse{Stdout: b}},
		{installOutput(b, true), &pulumirpc.InstallDependenciesResponse{Stderr: b}},
		{pluginOutput(b, false), &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: b}}},
		{pluginOutput(b, true), &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: b}}},
	} {
		if !proto.Equal(tt.got, tt.want) {
			t.Errorf("got %v, want %v", tt.got, tt.want)
		}
	}
	// Sanity: the two response kinds really differ by stream.
	if proto.Equal(installOutput(b, false), installOutput(b, true)) ||
		proto.Equal(pluginOutput(b, false), pluginOutput(b, true)) {
		t.Error("stdout and stderr map to the same response")
	}
}
