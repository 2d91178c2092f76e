//! The project export against a real regional stack (control plane, workers, databases) and a real S3
//! (moto_server): one test binary, cases under `cases/`.

mod cases;
