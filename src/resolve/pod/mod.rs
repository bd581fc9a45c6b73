//! What a service's pods are made of, resolved and checked: probes, named ports, the
//! Service, sidecars and init containers, volumes, files, placement, image pull
//! secrets, extra labels and annotations.
//!
//! Every value keeps its origin (`origins`, by the same field paths validation uses),
//! so a problem found in a rendered object still points at the line that produced it.
//!
//! Each subject is a module of its own that adds its methods to `Resolver`.

mod containers;
mod env;
mod images;
mod metadata;
mod placement;
mod ports;
mod probes;
mod volumes;
