//! stub (being written)
pub fn check_tag(_s: &str) -> Result<(), String> {
    Ok(())
}
pub fn check_digest(_s: &str) -> Result<(), String> {
    Ok(())
}
pub fn check_repository(_s: &str) -> Result<(), String> {
    Ok(())
}
pub fn has_registry_host(s: &str) -> bool {
    s.split('/').next().is_some_and(|h| h.contains('.'))
}
