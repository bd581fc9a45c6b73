//! stub (being written)
pub fn check_dns1123_label(_s: &str) -> Result<(), String> {
    Ok(())
}
pub fn check_dns1123_subdomain(_s: &str) -> Result<(), String> {
    Ok(())
}
pub fn check_label_value(_s: &str) -> Result<(), String> {
    Ok(())
}
pub fn check_env_var_name(_s: &str) -> Result<(), String> {
    Ok(())
}
pub fn check_config_map_key(_s: &str) -> Result<(), String> {
    Ok(())
}
pub fn check_http_path(_s: &str) -> Result<(), String> {
    Ok(())
}
