//! milepost-web
