//! milepost-store
