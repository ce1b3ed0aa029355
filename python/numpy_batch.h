#pragma once
/// Batches as Python values and back, without copying the bulk of the data.
///
/// To Python (BatchToPython): a dict of column name to
///   - numeric and tensor columns: a read-only numpy array viewing the engine's buffer
///     ([rows] or [rows, *row_shape]); with batch_format "torch" a DLPack capsule of the same
///     memory (torch.utils.dlpack.from_dlpack takes it: no copy);
///   - list columns whose rows all have one length and no nulls: a [rows, length] view of the
///     elements (others: a list of 1-d views, None for null lists);
///   - binary columns: ("binary", values, offsets): a uint8 view of the values buffer and the
///     int64 offsets into it (the package wraps them in sluice.BinaryArray; no value is copied);
///   - string columns: a list of str (None for nulls), copied;
///   - numeric columns with nulls: ("masked", values, valid) for a numpy masked array.
/// The arrays keep the engine's buffers alive, so they stay valid after the batch is gone.
///
/// From Python (PythonToBatch): a mapping of column name to a numpy array (1-d numeric: a
/// column; n-d: a tensor column of rows of shape[1:]; object or str arrays of str/bytes: a
/// string or binary column), a sluice.BinaryArray, or anything numpy.asarray takes. Numeric
/// arrays that are C-contiguous enter the engine without a copy (the buffer holds the array).
///
/// Threading: both need the GIL.

#include <pybind11/pybind11.h>

#include <string>

#include "sluice/batch.h"

namespace sluice::python {

pybind11::dict BatchToPython(const Batch& batch, bool torch_format);

/// `stage` names the stage in errors (with the column).
Result<Batch> PythonToBatch(const pybind11::handle& value, const std::string& stage);

}  // namespace sluice::python
