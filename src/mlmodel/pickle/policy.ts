/**
 * Which imported globals a pickle may use: a default-deny allowlist of globals that checkpoints need
 * and that only build data, and a denylist of callables known to execute code, touch files, processes
 * or the network. Everything else is "suspicious" (not allowlisted): it fails the gate at the default
 * `fail_on: high`, as picklescan's `--strict` would, because a chain of individually harmless-looking
 * globals is how published bypasses work (importlib.import_module + inspect.getattr_static,
 * https://huggingface.co/xry6/huntr-picklescan-bypass-poc).
 *
 * Sources: picklescan 1.0.5 `_safe_globals`/`_unsafe_globals` (every entry is here, the three string
 * entries normalised to names), modelscan's `unsafe_globals` (`__import__`), fickling's ML allowlist
 * and UnsafeImports (../shared/reference/lint-and-models.md B2–B4).
 */

/** The verdict on one global. */
export type GlobalVerdict = "dangerous" | "unresolved" | "allowed" | "not-allowed";

/** `"*"`: the whole module and its submodules; otherwise names (a dotted name covers its attributes). */
type Rule = "*" | readonly string[];

const BUILTINS_DANGEROUS = ["eval", "exec", "execfile", "compile", "open", "file", "getattr", "setattr", "delattr", "__import__", "apply", "breakpoint", "input", "reload"];
const OPERATOR_DANGEROUS = ["attrgetter", "itemgetter", "methodcaller"];

/**
 * Callables that run code, spawn processes, open files or sockets, or load further pickles. A rule on a
 * module with "*" covers its submodules (asyncio.unix_events under asyncio).
 */
export const DENYLIST: Readonly<Record<string, Rule>> = {
  // code execution in the interpreter
  builtins: BUILTINS_DANGEROUS,
  __builtin__: BUILTINS_DANGEROUS,
  runpy: "*",
  code: "*",
  codeop: "*",
  importlib: "*",
  imp: "*",
  zipimport: "*",
  pkgutil: ["resolve_name", "get_loader", "find_loader", "ImpImporter", "ImpLoader"],
  marshal: "*",
  types: ["CodeType", "FunctionType", "LambdaType", "MethodType", "ModuleType"],
  timeit: "*",
  trace: "*",
  doctest: "*",
  profile: "*",
  cProfile: "*",
  _lsprof: "*",
  pdb: "*",
  bdb: "*",
  pydoc: "*",
  idlelib: "*",
  _pyrepl: "*",
  lib2to3: "*",
  test: "*",
  operator: OPERATOR_DANGEROUS,
  _operator: OPERATOR_DANGEROUS,
  functools: ["partial", "reduce"],
  // processes and the operating system
  os: "*",
  posix: "*",
  nt: "*",
  sys: "*",
  subprocess: "*",
  _posixsubprocess: "*",
  multiprocessing: "*",
  pty: "*",
  commands: "*",
  popen2: "*",
  asyncio: "*",
  ctypes: "*",
  _ctypes: "*",
  shutil: "*",
  uuid: "*",
  _osx_support: "*",
  _aix_support: "*",
  platform: ["popen", "_syscmd_file", "_syscmd_ver", "architecture"],
  imaplib: ["IMAP4_stream"],
  venv: "*",
  ensurepip: "*",
  pip: "*",
  distutils: "*",
  setuptools: "*",
  // files
  _io: ["FileIO", "open", "open_code"],
  io: ["FileIO", "open", "open_code"],
  codecs: ["open", "EncodedFile"],
  logging: ["FileHandler", "handlers", "config"],
  "logging.handlers": "*",
  "logging.config": "*",
  tempfile: "*",
  shelve: "*",
  // network
  socket: "*",
  ssl: "*",
  webbrowser: "*",
  httplib: "*",
  "http.client": "*",
  "http.server": "*",
  "urllib.request": "*",
  urllib2: "*",
  requests: "*",
  aiohttp: "*",
  smtplib: "*",
  ftplib: "*",
  telnetlib: "*",
  // further deserializers (a pickle inside a pickle)
  pickle: "*",
  _pickle: "*",
  cPickle: "*",
  dill: "*",
  cloudpickle: "*",
  joblib: ["load", "numpy_pickle.load", "numpy_pickle_compat.load_compatibility"],
  "joblib.numpy_pickle": ["load", "NDArrayWrapper"],
  numpy: ["load", "loadtxt", "fromfile", "memmap"],
  "numpy.f2py": "*",
  "numpy.ctypeslib": "*",
  "numpy.testing._private.utils": "*",
  "numpy.distutils": "*",
  // torch gadgets (picklescan's list) and loaders
  torch: ["load", "hub"],
  "torch.serialization": ["load", "_load"],
  "torch.storage": ["_load_from_bytes"],
  "torch.hub": "*",
  "torch._dynamo.guards": ["GuardBuilder.get"],
  "torch._inductor.codecache": ["compile_file"],
  "torch.fx.experimental.symbolic_shapes": ["ShapeEnv.evaluate_guards_expression"],
  "torch.jit.unsupported_tensor_ops": ["execWrapper"],
  "torch.utils._config_module": ["ConfigModule.load_config"],
  "torch.utils.bottleneck.__main__": "*",
  "torch.utils.collect_env": ["run", "run_and_read_all", "run_and_parse_first_match"],
  "torch.utils.data.datapipes.utils.decoder": ["basichandlers"],
  "torch.distributed.elastic.rendezvous.api": ["basichandlers"],
};

/**
 * Globals that only rebuild data. Each entry says why it is safe; a global's arguments are globals
 * themselves (judged on their own), so a safe constructor cannot smuggle a dangerous callable past
 * this list.
 */
export const ALLOWLIST: Readonly<Record<string, readonly string[]>> = {
  // an ordered dict: state_dicts are OrderedDicts (picklescan safe list)
  collections: ["OrderedDict"],
  // numpy arrays and dtypes, rebuilt from bytes (picklescan safe list); `scalar` rebuilds a numpy scalar
  // from a dtype and bytes; `_frombuffer` is the protocol-5 array rebuild (numpy `ndarray.__reduce_ex__`)
  numpy: ["dtype", "ndarray"],
  "numpy.core.multiarray": ["_reconstruct", "scalar"],
  "numpy._core.multiarray": ["_reconstruct", "scalar"],
  "numpy.core.numeric": ["_frombuffer"],
  "numpy._core.numeric": ["_frombuffer"],
  // torch tensors: storages arrive through persistent ids (BINPERSID), the storage classes are only
  // type tags (picklescan safe list); the _rebuild_* functions wrap a storage in a tensor/parameter;
  // _rebuild_from_type_v2 calls a rebuild function that is itself a global (judged on its own);
  // Size, device and the dtypes are plain values
  torch: [
    "LongStorage", "FloatStorage", "HalfStorage", "QUInt2x4Storage", "QUInt4x2Storage", "QInt32Storage", "QInt8Storage",
    "QUInt8Storage", "ComplexFloatStorage", "ComplexDoubleStorage", "DoubleStorage", "BFloat16Storage", "BoolStorage",
    "CharStorage", "ShortStorage", "IntStorage", "ByteStorage", "UntypedStorage", "Size", "device",
    "float16", "float32", "float64", "bfloat16", "half", "float", "double", "int8", "int16", "int32", "int64",
    "uint8", "bool", "complex64", "complex128", "long", "int", "short",
  ],
  "torch._utils": ["_rebuild_tensor", "_rebuild_tensor_v2", "_rebuild_parameter", "_rebuild_parameter_with_state"],
  "torch._tensor": ["_rebuild_from_type_v2"],
  "torch.storage": ["UntypedStorage", "TypedStorage"],
  // bytes in protocol <= 2 pickles: _codecs.encode(str, "latin1") turns text back into bytes (a codec
  // lookup by name; codecs cannot be registered from a pickle) — fickling allows it for this reason
  _codecs: ["encode"],
  // plain containers and numbers built by protocol 0–2 pickles of sets, complex numbers, slices
  builtins: ["set", "frozenset", "bytearray", "complex", "slice", "object", "bytes", "list", "dict", "tuple", "int", "float", "bool", "str"],
  __builtin__: ["set", "frozenset", "bytearray", "complex", "slice", "object", "bytes", "list", "dict", "tuple", "int", "float", "bool", "str", "unicode", "long"],
  // protocol 0/1 object rebuild: _reconstructor(cls, base, state) calls base.__new__/__init__ of globals judged on their own
  copyreg: ["_reconstructor"],
  copy_reg: ["_reconstructor"],
  // joblib's stand-in for a numpy array whose bytes follow the pickle (joblib numpy_pickle.py); the
  // scanner reads those bytes as data, or scans them as the nested pickle of an object array
  "joblib.numpy_pickle": ["NumpyArrayWrapper"],
};

function nameMatches(rule: Rule, name: string): boolean {
  if (rule === "*") return true;
  // "ModifiedInterpreter.runcode" covers itself; a listed "handlers" covers "handlers.X"
  return rule.some((r) => name === r || name.startsWith(`${r}.`));
}

function lookup(list: Readonly<Record<string, Rule>>, module: string, name: string): boolean {
  const direct = list[module];
  if (direct !== undefined && nameMatches(direct, name)) return true;
  // a "*" on a parent module covers its submodules (picklescan does the same)
  const parts = module.split(".");
  for (let i = parts.length - 1; i >= 1; i--) {
    const parent = parts.slice(0, i).join(".");
    const rule = list[parent];
    if (rule === "*") return true;
    // `module.sub` + `name` imported as `module` + `sub.name`
    if (rule !== undefined && nameMatches(rule, `${parts.slice(i).join(".")}.${name}`)) return true;
  }
  return false;
}

/** Extra allowed globals given by the caller, as "module.name" or "module.*". */
export type ExtraAllow = readonly string[];

function allowedByExtra(extra: ExtraAllow, module: string, name: string): boolean {
  const full = `${module}.${name}`;
  return extra.some((e) => e === full || (e.endsWith(".*") && (module === e.slice(0, -2) || module.startsWith(e.slice(0, -1)))));
}

/**
 * Judges one global: "unresolved" when it could not be known statically or names "unknown" (as
 * picklescan does), "dangerous" when denylisted, "allowed" when allowlisted (or in `extraAllow`),
 * otherwise "not-allowed". The denylist wins over `extraAllow`.
 */
export function judgeGlobal(module: string, name: string, resolved: boolean, extraAllow: ExtraAllow = []): GlobalVerdict {
  if (!resolved || module.includes("unknown") || name.includes("unknown")) return "unresolved";
  if (lookup(DENYLIST, module, name)) return "dangerous";
  const allow = ALLOWLIST[module];
  if (allow !== undefined && allow.includes(name)) return "allowed";
  if (allowedByExtra(extraAllow, module, name)) return "allowed";
  return "not-allowed";
}
