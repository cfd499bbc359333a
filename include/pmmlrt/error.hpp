#pragma once
/// \file error.hpp
/// The exceptions pmmlrt throws. Every error derives from pmmlrt::Error, carries a kind and a message that
/// names the element, field or row at fault.

#include <cstddef>
#include <stdexcept>
#include <string>

namespace pmmlrt {
inline namespace v0 {

/// What went wrong, coarsely; stable across versions (values are only ever appended).
enum class ErrorKind {
  Parse = 1,        ///< The bytes are not a well-formed PMML document (XML error, bad number, missing attribute).
  Unsupported = 2,  ///< A well-formed document uses an element or function pmmlrt does not implement.
  Model = 3,        ///< The model is inconsistent (dangling field reference, cycle, mismatched classes).
  Input = 4,        ///< An input value is invalid for its field under the model's treatment rules.
  Evaluation = 5,   ///< Scoring produced an undefined result the model declares an error (e.g. log of -1).
  Limit = 6,        ///< A configured resource limit (size, depth, node count) was exceeded.
  Io = 7,           ///< A file could not be read.
  Usage = 8,        ///< The API was called with arguments that do not fit (wrong buffer size, unknown name).
};

/// A short lower-case name of the kind ("parse", "unsupported", ...).
inline const char* to_string(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::Parse: return "parse";
    case ErrorKind::Unsupported: return "unsupported";
    case ErrorKind::Model: return "model";
    case ErrorKind::Input: return "input";
    case ErrorKind::Evaluation: return "evaluation";
    case ErrorKind::Limit: return "limit";
    case ErrorKind::Io: return "io";
    case ErrorKind::Usage: return "usage";
  }
  return "unknown";
}

/// Base of all pmmlrt exceptions.
class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  /// The category of the error.
  ErrorKind kind() const noexcept { return kind_; }

 private:
  ErrorKind kind_;
};

/// The document could not be parsed. `line()` is 1-based, 0 when unknown; `path()` is the element path
/// such as "/PMML/TreeModel/Node[3]/SimplePredicate".
class ParseError : public Error {
 public:
  ParseError(const std::string& message, std::string path, std::size_t line)
      : Error(ErrorKind::Parse, message), path_(std::move(path)), line_(line) {}
  const std::string& path() const noexcept { return path_; }
  std::size_t line() const noexcept { return line_; }

 private:
  std::string path_;
  std::size_t line_;
};

/// The document is valid PMML, but uses something pmmlrt does not evaluate. `path()` names the element.
class UnsupportedError : public Error {
 public:
  UnsupportedError(const std::string& message, std::string path)
      : Error(ErrorKind::Unsupported, message), path_(std::move(path)) {}
  const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
};

/// The model is inconsistent: a reference to an undeclared field, a cycle among derived fields, etc.
class ModelError : public Error {
 public:
  ModelError(const std::string& message, std::string path) : Error(ErrorKind::Model, message), path_(std::move(path)) {}
  const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
};

/// An input value is invalid (or missing where the model forbids it). `field()` names the field and `row()`
/// the 0-based row of the batch (0 for a single record).
class InputError : public Error {
 public:
  InputError(const std::string& message, std::string field, std::size_t row)
      : Error(ErrorKind::Input, message), field_(std::move(field)), row_(row) {}
  const std::string& field() const noexcept { return field_; }
  std::size_t row() const noexcept { return row_; }

 private:
  std::string field_;
  std::size_t row_;
};

/// Scoring hit an undefined result that the model says is an error (Apply invalidValueTreatment="returnInvalid",
/// a simplemax over zeros, ...). `row()` is the 0-based row of the batch.
class EvaluationError : public Error {
 public:
  EvaluationError(const std::string& message, std::size_t row) : Error(ErrorKind::Evaluation, message), row_(row) {}
  std::size_t row() const noexcept { return row_; }

 private:
  std::size_t row_;
};

/// A resource limit from LoadOptions was exceeded.
class LimitError : public Error {
 public:
  explicit LimitError(const std::string& message) : Error(ErrorKind::Limit, message) {}
};

}  // namespace v0
}  // namespace pmmlrt
