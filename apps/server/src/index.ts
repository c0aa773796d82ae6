export { startServer, type RunningServer } from "./server";
export { loadConfig, ConfigError, type ServerConfig } from "./config";
