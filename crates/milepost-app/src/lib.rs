//! milepost-app
