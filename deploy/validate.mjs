// Checks what the repository ships for running many nodes, offline:
//  - docker/*/Dockerfile with dockerfile-utils (the Dockerfile language service's validator: syntax,
//    instructions and their flags, all its lint rules as errors), then what Wharf's images promise
//    (non-root user, exec-form entrypoint, /live health check, /config, the archive the build makes);
//  - deploy/kubernetes/*.yaml against the Kubernetes API schemas (kubernetes-models' validate(),
//    JSON schemas generated from Kubernetes' OpenAPI), parsed as kubectl does (YAML 1.1); with no
//    field the API does not know (those schemas allow any: TypeScript's excess-property check of
//    each object against kubernetes-models' API types does not, as kubeconform --strict); then
//    what holds the example together (probes on /ready and /live, the grace period above
//    preStop + grace + drain, ports and selectors that meet, every endpoint file's ${wharf.*}
//    given by the environment or a default, its port a container port).
// Every check is also run against broken copies (selfTest) that it must reject, so none of them
// passes by construction. Exit status 0: all good; 1: the problems are listed.
import { readFileSync, readdirSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { validate as validateDockerfile, ValidationSeverity } from "dockerfile-utils";
import ts from "typescript";

const deploy = dirname(fileURLToPath(import.meta.url));
const root = join(deploy, "..");

// ---------------------------------------------------------------- Dockerfiles

const STRICT = Object.fromEntries(["deprecatedMaintainer", "directiveCasing", "emptyContinuationLine",
    "instructionCasing", "instructionCmdMultiple", "instructionEntrypointMultiple", "instructionHealthcheckMultiple",
    "instructionJSONInSingleQuotes", "instructionWorkdirRelative"].map((k) => [k, ValidationSeverity.ERROR]));

/** Problems with one Dockerfile's text; `archives` says whether the build's archives must exist. */
export function checkDockerfile(name, text, { archives = false } = {}) {
    const problems = validateDockerfile(text, STRICT).map((d) =>
        `${name}:${d.range.start.line + 1}: ${d.message}`);
    // The instructions, continuation lines joined, comments dropped.
    const instructions = text.replace(/\\\r?\n/g, " ").split(/\r?\n/).map((l) => l.trim())
        .filter((l) => l && !l.startsWith("#")).map((l) => {
            const [keyword, ...rest] = l.split(/\s+/);
            return { keyword: keyword.toUpperCase(), args: rest.join(" ") };
        });
    const all = (k) => instructions.filter((i) => i.keyword === k);
    const last = (k) => all(k).at(-1);
    const from = all("FROM");
    if (from.length !== 1 || from[0].args !== "eclipse-temurin:17-jre") {
        problems.push(`${name}: FROM must be eclipse-temurin:17-jre (found ${from.map((f) => f.args).join(", ") || "none"})`);
    }
    const user = last("USER");
    if (!user || /^(root|0)(:|$)/.test(user.args)) {
        problems.push(`${name}: the last USER must be a user other than root (found ${user ? user.args : "none"})`);
    }
    const entrypoint = last("ENTRYPOINT");
    if (!entrypoint || !entrypoint.args.startsWith("[")) {
        problems.push(`${name}: ENTRYPOINT must be in exec form (a JSON array), so SIGTERM reaches the JVM`);
    }
    const healthcheck = last("HEALTHCHECK");
    if (!healthcheck || !/\/live\b/.test(healthcheck.args)) {
        problems.push(`${name}: HEALTHCHECK must ask the status endpoint's /live`);
    }
    const env = all("ENV").map((e) => e.args).join(" ");
    if (!/\bWHARF_CONFIG_DIR=\/config\b/.test(env)) {
        problems.push(`${name}: ENV must set WHARF_CONFIG_DIR=/config`);
    }
    if (!/\bWHARF_HOST=0\.0\.0\.0\b/.test(env)) {
        problems.push(`${name}: ENV must set WHARF_HOST=0.0.0.0 (a container is reached on its own address)`);
    }
    if (!all("EXPOSE").some((e) => /\b8080\b/.test(e.args))) {
        problems.push(`${name}: EXPOSE must name the status endpoint's port 8080`);
    }
    // The archive it unpacks is the one the build makes, at the pom's version.
    const version = pomVersion();
    const arg = all("ARG").map((a) => a.args.match(/^WHARF_VERSION=(.*)$/)).find(Boolean);
    if (!arg || arg[1] !== version) {
        problems.push(`${name}: ARG WHARF_VERSION must default to the build's version ${version}`);
    }
    for (const add of all("ADD").concat(all("COPY"))) {
        const source = add.args.split(/\s+/).filter((a) => !a.startsWith("--"))[0];
        const path = source.replace(/\$\{WHARF_VERSION\}/g, version);
        if (archives && !existsSync(join(root, path))) {
            problems.push(`${name}: ${add.keyword} ${source}: ${path} is not what the build made (no such file)`);
        }
    }
    return problems;
}

function pomVersion() {
    const pom = readFileSync(join(root, "pom.xml"), "utf8");
    return pom.replace(/<parent>[\s\S]*?<\/parent>/, "").match(/<version>([^<]+)<\/version>/)[1];
}

// ---------------------------------------------------------------- Kubernetes

/** The documents of YAML texts, parsed as kubectl parses them (YAML 1.1: 0440 is octal). */
export function parseManifests(files) {
    const docs = [];
    const problems = [];
    for (const [name, text] of files) {
        for (const doc of parseAllDocuments(text, { version: "1.1" })) {
            for (const e of doc.errors) {
                problems.push(`${name}: ${e.message}`);
            }
            const value = doc.toJS();
            if (value != null) {
                docs.push({ file: name, value });
            }
        }
    }
    return { docs, problems };
}

/** Each document against the schema of its apiVersion and kind. */
export async function checkSchemas(docs) {
    const problems = [];
    for (const { file, value } of docs) {
        const where = `${file}: ${value.kind}/${value.metadata?.name}`;
        if (typeof value.apiVersion !== "string" || typeof value.kind !== "string") {
            problems.push(`${where}: no apiVersion or kind`);
            continue;
        }
        const group = value.apiVersion.includes("/") ? value.apiVersion : `v1/${value.apiVersion}`.replace(/^v1\/v1$/, "v1");
        let model;
        try {
            model = (await import(`kubernetes-models/${group}/${value.kind}`))[value.kind];
        } catch (e) {
            problems.push(`${where}: no schema for ${value.apiVersion} ${value.kind}`);
            continue;
        }
        try {
            new model(value).validate();
        } catch (e) {
            problems.push(`${where}: ${e.message}`);
        }
    }
    return problems;
}

/**
 * Fields the API does not have (a misspelt key is otherwise dropped by the API server without a
 * word): each object as an object literal of its kubernetes-models type, type-checked.
 */
export function checkUnknownFields(...docSets) {
    const dir = join(deploy, "node_modules", ".cache", "wharf-validate");
    mkdirSync(dir, { recursive: true });
    const file = join(dir, "objects.ts");
    // One program for every set (the compiler's start is most of the time): one object a line.
    const objects = docSets.flatMap((docs, set) => docs.map((d) => ({ set, ...d })));
    const imports = objects.map(({ value }, i) => `import type { I${value.kind} as T${i} } from "kubernetes-models/${
        value.apiVersion.includes("/") ? value.apiVersion : "v1"}/${value.kind}";`);
    const lines = objects.map(({ value }, i) => `export const o${i}: T${i} = ${JSON.stringify(value)};`);
    writeFileSync(file, imports.concat(lines).join("\n") + "\n");
    const program = ts.createProgram([file], { strict: true, noEmit: true, skipLibCheck: true,
        module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022 });
    const problems = docSets.map(() => []);
    for (const d of ts.getPreEmitDiagnostics(program)) {
        const message = ts.flattenDiagnosticMessageText(d.messageText, " ");
        const line = d.file ? d.file.getLineAndCharacterOfPosition(d.start).line : -1;
        const o = objects[line - objects.length] ?? objects[line];
        if (!o) {
            problems[0].push(`objects.ts: ${message}`);
        } else {
            problems[o.set].push(`${o.file}: ${o.value.kind}/${o.value.metadata?.name}: ${message}`);
        }
    }
    return problems;
}

const PROXY_PROTOCOL = new Set(["off", "v1", "v2", "either"]);
const IMAGE_ENDPOINTS = new Set(["http", "echo"]);

/** A .cfg's properties (key = value lines; FileInstall's format without continuations). */
function properties(text) {
    const out = new Map();
    for (const line of text.split(/\r?\n/)) {
        const t = line.trim();
        if (!t || t.startsWith("#") || t.startsWith("!")) {
            continue;
        }
        const m = t.match(/^([^=:\s]+)\s*[=:]\s*(.*)$/);
        if (m) {
            out.set(m[1], m[2]);
        }
    }
    return out;
}

/** ${wharf.x:-default} and ${wharf.x} resolved as a node would, from the container's env. */
function resolve(value, env, missing) {
    let v = value;
    for (let i = 0; i < 10 && v.includes("${"); i++) {
        v = v.replace(/\$\{([^${}:]+)(?::-([^${}]*))?\}/g, (all, name, fallback) => {
            const variable = name.toUpperCase().replace(/\./g, "_");
            if (name.startsWith("env:")) {
                return env.get(name.slice(4)) ?? fallback ?? "";
            }
            if (env.has(variable)) {
                return env.get(variable);
            }
            if (fallback === undefined) {
                missing.push(name);
                return "";
            }
            return fallback;
        });
    }
    return v;
}

/** What makes the example one working whole. */
export function checkConsistency(docs) {
    const problems = [];
    const of = (kind) => docs.filter((d) => d.value.kind === kind).map((d) => d.value);
    const deployments = of("Deployment");
    const services = of("Service");
    const configMaps = new Map(of("ConfigMap").map((c) => [c.metadata.name, c]));
    if (deployments.length !== 1) {
        problems.push(`expected one Deployment, found ${deployments.length}`);
        return problems;
    }
    const d = deployments[0];
    const pod = d.spec.template;
    const labels = pod.metadata?.labels ?? {};
    const matches = (selector) => Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);
    if (!matches(d.spec.selector?.matchLabels)) {
        problems.push(`Deployment ${d.metadata.name}: spec.selector does not select the pod template's labels`);
    }
    if (d.spec.replicas !== 3) {
        problems.push(`Deployment ${d.metadata.name}: replicas is ${d.spec.replicas}, the example runs 3 nodes`);
    }
    const containers = pod.spec.containers;
    for (const c of containers) {
        const where = `Deployment ${d.metadata.name}, container ${c.name}`;
        const env = new Map((c.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, String(e.value)]));
        for (const e of c.env ?? []) {
            if (e.valueFrom) {
                env.set(e.name, "from-the-pod");
            }
            if (e.value !== undefined && e.name.startsWith("WHARF_") && /[\s*?[]/.test(String(e.value))) {
                problems.push(`${where}: ${e.name} = '${e.value}' has a blank or a wildcard, which the Karaf image does not pass on`);
            }
        }
        const ports = c.ports ?? [];
        const portOf = (p) => typeof p === "number" ? ports.find((x) => x.containerPort === p) : ports.find((x) => x.name === p);
        const probe = (kind, path) => {
            const get = c[kind]?.httpGet;
            if (!get || get.path !== path) {
                problems.push(`${where}: ${kind} must be GET ${path} (found ${get ? "GET " + get.path : "none"})`);
            } else if (!portOf(get.port)) {
                problems.push(`${where}: ${kind} port ${get.port} is not a port of the container`);
            } else if (portOf(get.port).containerPort !== Number(env.get("WHARF_HTTP_PORT") ?? 8080)) {
                problems.push(`${where}: ${kind} asks port ${portOf(get.port).containerPort}, the status endpoint is on ${env.get("WHARF_HTTP_PORT") ?? 8080}`);
            }
        };
        probe("readinessProbe", "/ready");
        probe("livenessProbe", "/live");
        const preStop = c.lifecycle?.preStop;
        if (!preStop) {
            problems.push(`${where}: no lifecycle.preStop`);
        }
        const preStopMs = preStop?.exec?.command?.[0] === "sleep" ? Number(preStop.exec.command[1]) * 1000
                : preStop?.sleep ? preStop.sleep.seconds * 1000 : 0;
        const grace = Number(env.get("WHARF_SHUTDOWN_GRACE") ?? 0);
        const drain = Number(env.get("WHARF_SHUTDOWN_DRAIN") ?? 10000);
        const period = (pod.spec.terminationGracePeriodSeconds ?? 30) * 1000;
        if (!(period > preStopMs + grace + drain)) {
            problems.push(`${where}: terminationGracePeriodSeconds (${period / 1000} s) must exceed preStop + WHARF_SHUTDOWN_GRACE + WHARF_SHUTDOWN_DRAIN (${(preStopMs + grace + drain) / 1000} s), or the node is killed while it drains`);
        }
        // The configuration folder: a ConfigMap of this example, mounted read-only where WHARF_CONFIG_DIR says.
        const folder = env.get("WHARF_CONFIG_DIR");
        const mount = (c.volumeMounts ?? []).find((m) => m.mountPath === folder);
        const volume = mount && (pod.spec.volumes ?? []).find((v) => v.name === mount.name);
        const configMap = volume?.configMap && configMaps.get(volume.configMap.name);
        if (!folder || !mount || !configMap) {
            problems.push(`${where}: WHARF_CONFIG_DIR (${folder}) must be the mount of a ConfigMap of this example`);
            continue;
        }
        if (!mount.readOnly) {
            problems.push(`${where}: the configuration folder ${folder} must be mounted readOnly`);
        }
        for (const [key, text] of Object.entries(configMap.data ?? {})) {
            const where2 = `ConfigMap ${configMap.metadata.name}, ${key}`;
            const m = key.match(/^org\.wharf\.(server|proxy)-([A-Za-z0-9._-]+)\.cfg$/);
            if (!m) {
                problems.push(`${where2}: not an endpoint file name (org.wharf.server-NAME.cfg or org.wharf.proxy-NAME.cfg)`);
                continue;
            }
            if (IMAGE_ENDPOINTS.has(m[2])) {
                problems.push(`${where2}: the images have an endpoint named ${m[2]} already (etc/): name this one differently`);
            }
            const p = properties(text);
            const missing = [];
            const value = (k) => p.has(k) ? resolve(p.get(k), env, missing) : undefined;
            if (value("name") !== m[2]) {
                problems.push(`${where2}: name = ${p.get("name")}, the file says ${m[2]}`);
            }
            const port = Number(value("port"));
            if (!ports.some((x) => x.containerPort === port)) {
                problems.push(`${where2}: port ${p.get("port")} = ${port} is not a port of container ${c.name}`);
            }
            const proxyProtocol = value("proxyProtocol") ?? "off";
            if (!PROXY_PROTOCOL.has(proxyProtocol)) {
                problems.push(`${where2}: proxyProtocol = ${proxyProtocol}, not one of ${[...PROXY_PROTOCOL].join(", ")}`);
            } else if (proxyProtocol !== "off" && !value("proxyProtocol.trusted")) {
                problems.push(`${where2}: proxyProtocol = ${proxyProtocol} needs proxyProtocol.trusted (the balancer's addresses)`);
            }
            for (const k of p.keys()) {
                value(k);
            }
            for (const name of new Set(missing)) {
                problems.push(`${where2}: \${${name}} has no default and the container has no ${name.toUpperCase().replace(/\./g, "_")}`);
            }
        }
        for (const s of services) {
            const selects = Object.entries(s.spec.selector ?? {}).length > 0
                    && Object.entries(s.spec.selector).every(([k, v]) => labels[k] === v);
            if (!selects) {
                problems.push(`Service ${s.metadata.name}: its selector does not select the Deployment's pods`);
            }
            for (const sp of s.spec.ports ?? []) {
                if (!portOf(sp.targetPort ?? sp.port)) {
                    problems.push(`Service ${s.metadata.name}: targetPort ${sp.targetPort} is not a port of container ${c.name}`);
                }
            }
        }
    }
    return problems;
}

// ---------------------------------------------------------------- self test

/** Each check rejects a copy broken the way it guards against; returns what it failed to reject. */
async function selfTest(dockerfiles, manifests) {
    const failures = [];
    const mustReject = async (what, problemsOf) => {
        const problems = await problemsOf();
        if (problems.length === 0) {
            failures.push(`self-test: ${what} was not rejected`);
        }
    };
    const [dfName, dfText] = dockerfiles[0];
    await mustReject("a Dockerfile with an unknown instruction", () => checkDockerfile(dfName, dfText + "\nFORM nothing\n"));
    await mustReject("a Dockerfile with a bad HEALTHCHECK flag", () =>
        checkDockerfile(dfName, dfText.replace("--interval=10s", "--interval=often")));
    await mustReject("a Dockerfile running as root", () => checkDockerfile(dfName, dfText + "\nUSER root\n"));
    await mustReject("a Dockerfile with a shell-form ENTRYPOINT", () =>
        checkDockerfile(dfName, dfText.replace(/^ENTRYPOINT \[.*$/m, "ENTRYPOINT bin/start")));
    const edit = async (change) => {
        const { docs } = parseManifests(manifests);
        const copy = structuredClone(docs);
        change(Object.fromEntries(copy.map((d) => [d.value.kind, d.value])));
        return copy;
    };
    await mustReject("a containerPort that is not a number", async () => checkSchemas(await edit((k) => {
        k.Deployment.spec.template.spec.containers[0].ports[0].containerPort = "eighty";
    })));
    await mustReject("a Deployment without a selector", async () => checkSchemas(await edit((k) => {
        delete k.Deployment.spec.selector;
    })));
    await mustReject("a Service port of the wrong type", async () => checkSchemas(await edit((k) => {
        k.Service.spec.ports[0].port = "many";
    })));
    await mustReject("a readiness probe on /live", async () => checkConsistency(await edit((k) => {
        k.Deployment.spec.template.spec.containers[0].readinessProbe.httpGet.path = "/live";
    })));
    await mustReject("a grace period shorter than preStop + grace + drain", async () => checkConsistency(await edit((k) => {
        k.Deployment.spec.template.spec.terminationGracePeriodSeconds = 15;
    })));
    await mustReject("an endpoint port the container does not expose", async () => checkConsistency(await edit((k) => {
        k.Deployment.spec.template.spec.containers[0].ports.splice(1, 1);
    })));
    await mustReject("an endpoint property with neither default nor variable", async () => checkConsistency(await edit((k) => {
        const key = Object.keys(k.ConfigMap.data)[0];
        k.ConfigMap.data[key] += "proxy.connectTimeout = ${wharf.nowhere}\n";
    })));
    await mustReject("a Service selecting nothing of the Deployment", async () => checkConsistency(await edit((k) => {
        k.Service.spec.selector = { app: "other" };
    })));
    return failures;
}

// ---------------------------------------------------------------- main

const dockerDir = join(root, "docker");
const dockerfiles = readdirSync(dockerDir, { withFileTypes: true }).filter((e) => e.isDirectory())
        .map((e) => join("docker", e.name, "Dockerfile")).filter((f) => existsSync(join(root, f)))
        .map((f) => [f, readFileSync(join(root, f), "utf8")]);
const k8sDir = join(deploy, "kubernetes");
const manifests = readdirSync(k8sDir).filter((f) => /\.ya?ml$/.test(f)).sort()
        .map((f) => [join("deploy/kubernetes", f), readFileSync(join(k8sDir, f), "utf8")]);

const archives = process.argv.includes("--archives");
const problems = [];
for (const [name, text] of dockerfiles) {
    problems.push(...checkDockerfile(name, text, { archives }));
}
const { docs, problems: yamlProblems } = parseManifests(manifests);
// The strict check of the self-test's broken copies is compiled with the real objects, at once.
const misspelt = structuredClone(docs);
misspelt.find((d) => d.value.kind === "Deployment").value.spec.template.spec.containers[0].imagePullPolcy = "Always";
const misplaced = structuredClone(docs);
misplaced.find((d) => d.value.kind === "Deployment").value.spec.template.spec.ports = [{ containerPort: 1 }];
const [unknownFields, ...strictSelfTest] = checkUnknownFields(docs, misspelt, misplaced);
problems.push(...yamlProblems, ...await checkSchemas(docs), ...unknownFields, ...checkConsistency(docs));
for (const [what, found] of [["a misspelt field (imagePullPolcy)", strictSelfTest[0]], ["a field at the wrong level (ports under the pod)", strictSelfTest[1]]]) {
    if (found.length === 0) {
        problems.push(`self-test: ${what} was not rejected`);
    }
}
problems.push(...await selfTest(dockerfiles, manifests));

for (const p of problems) {
    console.log(p);
}
const counted = `${dockerfiles.length} Dockerfiles, ${docs.length} Kubernetes objects (${docs.map((d) => d.value.kind).join(", ")})`;
if (problems.length > 0) {
    console.log(`deploy/validate: ${problems.length} problems in ${counted}`);
    process.exit(1);
}
console.log(`deploy/validate: ${counted} valid${archives ? ", the archives they unpack built" : ""}; every check rejected its broken copy`);
