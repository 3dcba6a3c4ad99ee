//===- Module.cpp - pybind11 bindings: the un_mlir._native module -*- C++
//-*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Binds Core.h to Python. This file is compiled with RTTI and exceptions
// (pybind11 needs both) and includes no MLIR or LLVM header. MLIR failures
// are raised as the Python class registered with `_set_error_class`
// (un_mlir.compiler.MLIRError), called with (summary, diagnostics) where
// diagnostics is a list of (severity, location, message) tuples. Wrong
// arguments raise TypeError or ValueError before anything runs.
//
//===----------------------------------------------------------------------===//

#include "Core.h"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <sstream>

namespace py = pybind11;
using namespace un_python;

namespace {

/// The Python exception class for MLIR failures; a leaked reference, so it
/// outlives interpreter shutdown order.
PyObject *errorClass = nullptr;

[[noreturn]] void raise(const Status &status) {
  py::list diagnostics;
  for (const Diagnostic &d : status.diagnostics)
    diagnostics.append(py::make_tuple(d.severity, d.location, d.message));
  if (!errorClass) {
    std::string message = status.summary;
    for (const Diagnostic &d : status.diagnostics)
      message += "\n" + d.location + ": " + d.severity + ": " + d.message;
    throw std::runtime_error(message);
  }
  py::object instance = py::reinterpret_borrow<py::object>(errorClass)(
      status.summary, diagnostics);
  PyErr_SetObject(errorClass, instance.ptr());
  throw py::error_already_set();
}

/// ml_dtypes.bfloat16 if installed, else None.
py::object bfloat16Dtype() {
  static PyObject *cached = nullptr;
  static bool looked = false;
  if (!looked) {
    looked = true;
    try {
      py::object dtype = py::module_::import("numpy").attr("dtype")(
          py::module_::import("ml_dtypes").attr("bfloat16"));
      cached = dtype.release().ptr();
    } catch (py::error_already_set &) {
      PyErr_Clear();
    }
  }
  return cached ? py::reinterpret_borrow<py::object>(cached) : py::none();
}

/// The numpy dtype results of `type` are returned as.
py::dtype numpyDtype(ElementType type) {
  switch (type) {
  case ElementType::F16:
    return py::dtype("float16");
  case ElementType::BF16: {
    py::object bf16 = bfloat16Dtype();
    if (!bf16.is_none())
      return py::reinterpret_borrow<py::dtype>(bf16);
    return py::dtype("uint16"); // raw bits
  }
  case ElementType::F32:
    return py::dtype("float32");
  case ElementType::F64:
    return py::dtype("float64");
  case ElementType::I1:
    return py::dtype("bool");
  case ElementType::I8:
    return py::dtype("int8");
  case ElementType::I16:
    return py::dtype("int16");
  case ElementType::I32:
    return py::dtype("int32");
  case ElementType::I64:
  case ElementType::Index:
    return py::dtype("int64");
  }
  return py::dtype("float32");
}

/// Whether an array of `dtype` may be passed where `type` is expected. bf16
/// takes ml_dtypes.bfloat16 or its raw bits as uint16.
bool dtypeMatches(const py::dtype &dtype, ElementType type) {
  char kind = dtype.kind();
  ssize_t size = dtype.itemsize();
  std::string name = py::str(dtype.attr("name"));
  switch (type) {
  case ElementType::F16:
    return kind == 'f' && size == 2;
  case ElementType::BF16:
    return name == "bfloat16" || (kind == 'u' && size == 2);
  case ElementType::F32:
    return kind == 'f' && size == 4;
  case ElementType::F64:
    return kind == 'f' && size == 8;
  case ElementType::I1:
    return kind == 'b';
  case ElementType::I8:
    return kind == 'i' && size == 1;
  case ElementType::I16:
    return kind == 'i' && size == 2;
  case ElementType::I32:
    return kind == 'i' && size == 4;
  case ElementType::I64:
  case ElementType::Index:
    return kind == 'i' && size == 8;
  }
  return false;
}

std::string shapeString(const std::vector<int64_t> &shape) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < shape.size(); ++i)
    os << (i ? ", " : "")
       << (shape[i] < 0 ? std::string("?") : std::to_string(shape[i]));
  os << "]";
  return os.str();
}

std::string signatureString(const FunctionSpec &spec) {
  std::string out = "@" + spec.name + "(";
  for (size_t i = 0; i < spec.args.size(); ++i)
    out += (i ? ", " : "") + spec.args[i].mlirType;
  out += ")";
  if (!spec.results.empty()) {
    out += " -> (";
    for (size_t i = 0; i < spec.results.size(); ++i)
      out += (i ? ", " : "") + spec.results[i].mlirType;
    out += ")";
  }
  return out;
}

bool isFloatType(ElementType type) {
  return type == ElementType::F16 || type == ElementType::BF16 ||
         type == ElementType::F32 || type == ElementType::F64;
}

/// Converts and checks one Python argument. Arrays that the call needs
/// alive are appended to `keepAlive`.
ArgValue convertArgument(const FunctionSpec &function, size_t index,
                         py::handle object,
                         std::vector<py::object> &keepAlive) {
  const ValueSpec &spec = function.args[index];
  std::string where = "argument " + std::to_string(index) + " of @" +
                      function.name + " (" + spec.mlirType + ")";
  ArgValue arg;
  if (!spec.isShaped) {
    if (py::isinstance<py::array>(object) &&
        py::cast<py::array>(object).ndim() != 0)
      throw py::type_error(where + ": expected a scalar, got an array");
    py::object value = py::reinterpret_borrow<py::object>(object);
    if (py::hasattr(value, "item") && !py::isinstance<py::int_>(value) &&
        !py::isinstance<py::float_>(value))
      value = value.attr("item")(); // numpy scalar or 0-d array
    if (isFloatType(spec.elementType)) {
      if (!py::isinstance<py::float_>(value) &&
          !py::isinstance<py::int_>(value))
        throw py::type_error(where + ": expected a float, got " +
                             std::string(py::str(py::type::handle_of(value))));
      arg.floatValue = py::cast<double>(value);
      return arg;
    }
    if (spec.elementType == ElementType::I1) {
      if (!py::isinstance<py::bool_>(value) && !py::isinstance<py::int_>(value))
        throw py::type_error(where + ": expected a bool, got " +
                             std::string(py::str(py::type::handle_of(value))));
      arg.intValue = py::cast<bool>(value) ? 1 : 0;
      return arg;
    }
    if (!py::isinstance<py::int_>(value) || py::isinstance<py::bool_>(value))
      throw py::type_error(where + ": expected an int, got " +
                           std::string(py::str(py::type::handle_of(value))));
    int64_t v;
    try {
      v = py::cast<int64_t>(value);
    } catch (py::cast_error &) {
      throw py::value_error(where + ": integer out of range");
    }
    int width = 8 * static_cast<int>(elementSize(spec.elementType));
    if (width < 64) {
      int64_t lo = -(int64_t(1) << (width - 1)),
              hi = (int64_t(1) << (width - 1)) - 1;
      if (v < lo || v > hi)
        throw py::value_error(where + ": " + std::to_string(v) +
                              " does not fit in " +
                              elementTypeName(spec.elementType));
    }
    arg.intValue = v;
    return arg;
  }

  // Shaped: a numpy array of the exact dtype; other sequences are converted.
  py::module_ np = py::module_::import("numpy");
  py::object array;
  if (py::isinstance<py::array>(object)) {
    array = py::reinterpret_borrow<py::object>(object);
  } else {
    if (spec.elementType == ElementType::BF16 && bfloat16Dtype().is_none())
      throw py::type_error(where + ": pass a uint16 array of bfloat16 bits (or "
                                   "install ml_dtypes)");
    try {
      array = np.attr("asarray")(object, numpyDtype(spec.elementType));
    } catch (py::error_already_set &e) {
      throw py::type_error(where + ": cannot convert " +
                           std::string(py::str(py::type::handle_of(object))) +
                           " to an array: " + e.what());
    }
  }
  py::array a = py::cast<py::array>(array);
  if (!dtypeMatches(a.dtype(), spec.elementType))
    throw py::type_error(
        where + ": expected an array of " +
        std::string(py::str(numpyDtype(spec.elementType).attr("name"))) +
        ", got " + std::string(py::str(a.dtype().attr("name"))));
  // Compiled code reads the host's byte order: another one would be read
  // as other numbers.
  if (!py::cast<bool>(a.dtype().attr("isnative")))
    throw py::type_error(where +
                         ": the array's byte order is not this "
                         "machine's (dtype " +
                         std::string(py::str(a.dtype().attr("str"))) +
                         "); convert it with "
                         "a.astype(a.dtype.newbyteorder('='))");
  size_t rank = spec.shape.size();
  std::vector<int64_t> shape(a.shape(), a.shape() + a.ndim());
  if (static_cast<size_t>(a.ndim()) != rank)
    throw py::value_error(where + ": expected rank " + std::to_string(rank) +
                          ", got an array of shape " + shapeString(shape));
  for (size_t d = 0; d < rank; ++d)
    if (spec.shape[d] >= 0 && spec.shape[d] != shape[d])
      throw py::value_error(where + ": expected shape " +
                            shapeString(spec.shape) + ", got " +
                            shapeString(shape));
  if (spec.isTensor) {
    // Value semantics: the callee reads a contiguous copy if needed.
    a = py::cast<py::array>(np.attr("ascontiguousarray")(a));
  } else {
    // A memref argument may be written: it must be the caller's own
    // contiguous, writable array.
    if (!(a.flags() & py::array::c_style))
      throw py::value_error(where + ": memref arguments must be C-contiguous");
    if (!a.writeable())
      throw py::value_error(where + ": memref arguments must be writable");
  }
  keepAlive.push_back(a);
  arg.data = const_cast<void *>(a.data());
  arg.shape = shape;
  int64_t itemsize = a.itemsize();
  for (size_t d = 0; d < rank; ++d)
    arg.strides.push_back(a.strides()[d] / itemsize);
  arg.rangeBegin = static_cast<const char *>(arg.data);
  arg.rangeEnd = arg.rangeBegin + a.nbytes();
  return arg;
}

py::object convertResult(const ValueSpec &spec, ResultValue &result) {
  if (!spec.isShaped) {
    if (isFloatType(spec.elementType))
      return py::float_(result.floatValue);
    if (spec.elementType == ElementType::I1)
      return py::bool_(result.intValue != 0);
    return py::int_(result.intValue);
  }
  py::array array(
      numpyDtype(spec.elementType),
      std::vector<py::ssize_t>(result.shape.begin(), result.shape.end()));
  if (!result.data.empty())
    std::memcpy(array.mutable_data(), result.data.data(), result.data.size());
  return std::move(array);
}

py::dict specToDict(const ValueSpec &spec) {
  py::dict d;
  d["kind"] = spec.isShaped ? (spec.isTensor ? "tensor" : "memref") : "scalar";
  d["element_type"] = elementTypeName(spec.elementType);
  py::list shape;
  for (int64_t dim : spec.shape)
    shape.append(dim < 0 ? py::object(py::none()) : py::object(py::int_(dim)));
  d["shape"] = shape;
  d["type"] = spec.mlirType;
  return d;
}

/// A Python handle on a JIT; calls are checked against the recorded
/// signature, run without the GIL, and return new numpy arrays.
class PyJIT {
public:
  explicit PyJIT(std::unique_ptr<JIT> jit) : jit(std::move(jit)) {}

  py::list functions() const {
    py::list out;
    for (const FunctionSpec &f : jit->functions()) {
      py::dict d;
      d["name"] = f.name;
      py::list args, results;
      for (const ValueSpec &a : f.args)
        args.append(specToDict(a));
      for (const ValueSpec &r : f.results)
        results.append(specToDict(r));
      d["args"] = args;
      d["results"] = results;
      d["signature"] = signatureString(f);
      out.append(d);
    }
    return out;
  }

  py::tuple call(const std::string &name, const py::sequence &pyArgs,
                 bool freeResults) {
    const FunctionSpec *spec = jit->lookup(name);
    if (!spec) {
      std::string names;
      for (const FunctionSpec &f : jit->functions())
        names += (names.empty() ? "" : ", ") + ("@" + f.name);
      throw py::key_error("no public function @" + name +
                          " in the module (it has: " + names + ")");
    }
    if (static_cast<size_t>(py::len(pyArgs)) != spec->args.size())
      throw py::type_error(signatureString(*spec) + " takes " +
                           std::to_string(spec->args.size()) +
                           " arguments, got " +
                           std::to_string(py::len(pyArgs)));
    std::vector<py::object> keepAlive;
    std::vector<ArgValue> args;
    for (size_t i = 0; i < spec->args.size(); ++i)
      args.push_back(convertArgument(*spec, i, pyArgs[i], keepAlive));
    std::vector<ResultValue> results;
    Status status;
    {
      py::gil_scoped_release release;
      status = jit->call(name, args, results, freeResults);
    }
    if (!status.ok)
      raise(status);
    py::tuple out(results.size());
    for (size_t i = 0; i < results.size(); ++i)
      out[i] = convertResult(spec->results[i], results[i]);
    return out;
  }

  std::string loweredIR() const { return jit->loweredIR(); }

private:
  std::unique_ptr<JIT> jit;
};

std::unique_ptr<Module> parseOrRaise(const std::string &text,
                                     const std::string &name) {
  Status status;
  std::unique_ptr<Module> module;
  {
    py::gil_scoped_release release;
    module = Module::parse(text, name, status);
  }
  if (!module)
    raise(status);
  return module;
}

} // namespace

PYBIND11_MODULE(_native, m) {
  m.doc() = "un-mlir's native bindings: parse, transform, JIT-compile and "
            "run MLIR with the un dialect (see un_mlir.compiler)";

  m.def(
      "_set_error_class",
      [](py::object cls) {
        Py_XDECREF(errorClass);
        errorClass = cls.release().ptr();
      },
      "Sets the exception class raised for MLIR failures.");

  py::class_<Module>(m, "Module",
                     "A parsed and verified MLIR module with its own context")
      .def_static("parse", &parseOrRaise, py::arg("text"),
                  py::arg("source_name") = "<string>",
                  "Parses and verifies MLIR text (every upstream dialect and "
                  "the un dialect are registered).")
      .def(
          "run_pipeline",
          [](Module &self, const std::string &pipeline) {
            Status status;
            {
              py::gil_scoped_release release;
              status = self.runPipeline(pipeline);
            }
            if (!status.ok)
              raise(status);
          },
          py::arg("pipeline"),
          "Runs a textual pass pipeline on the module in place.")
      .def("to_string", &Module::str, py::arg("generic") = false,
           py::arg("debug_info") = false)
      .def("__str__", [](const Module &self) { return self.str(); })
      .def(
          "gpu_objects",
          [](const Module &self) {
            py::list out;
            for (const Module::GPUObject &o : self.gpuObjects())
              out.append(py::make_tuple(o.binary, o.target, o.format,
                                        py::bytes(o.object)));
            return out;
          },
          "(binary name, target, format, object bytes) of every gpu.binary.");

  py::class_<PyJIT>(m, "JIT", "A module compiled for the host CPU")
      .def_static(
          "compile",
          [](const std::string &text, const std::string &sourceName,
             const std::string &pipeline, int optLevel,
             const std::vector<std::string> &sharedLibs) {
            std::unique_ptr<Module> module = parseOrRaise(text, sourceName);
            Status status;
            std::unique_ptr<JIT> jit;
            {
              py::gil_scoped_release release;
              jit = JIT::create(std::move(module), pipeline, optLevel,
                                sharedLibs, status);
            }
            if (!jit)
              raise(status);
            return std::make_unique<PyJIT>(std::move(jit));
          },
          py::arg("text"), py::arg("source_name"), py::arg("pipeline"),
          py::arg("opt_level"), py::arg("shared_libs"))
      .def("functions", &PyJIT::functions)
      .def("call", &PyJIT::call, py::arg("name"), py::arg("args"),
           py::arg("free_results") = true)
      .def("lowered_ir", &PyJIT::loweredIR);

  m.def("is_registered_pass", &isRegisteredPass, py::arg("name"),
        "True if `name` is a registered pass or pass pipeline.");
  m.def("default_runtime_library_dir", &defaultRuntimeLibraryDir);
}
