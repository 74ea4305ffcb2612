# Builds a fresh copy of the helper module straight from the import machinery.
import _imp, importlib.machinery
spec = importlib.machinery.ModuleSpec("_posixsubprocess", importlib.machinery.BuiltinImporter)
module = _imp.create_builtin(spec)
print(module.fork_exec)
