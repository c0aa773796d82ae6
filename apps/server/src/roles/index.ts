// The scale-out shape: one process per role, any number of each (docs/scaling.md).
import { startAuthRole } from "./auth";
import type { RoleConfig } from "./config";
import { startDomainServiceRole } from "./domain-service";
import { startProjectorRole } from "./projector";
import type { RunningRole } from "./role-process";
import { startSinkGatewayRole } from "./sink-gateway";
import { startSourceGatewayRole } from "./source-gateway";

export { ConfigError } from "../config";
export { loadRoleConfig, roleNames, type RoleConfig, type RoleName } from "./config";
export type { RunningRole } from "./role-process";
export { startAuthRole, startDomainServiceRole, startProjectorRole, startSinkGatewayRole, startSourceGatewayRole };

/** Starts the role the configuration names. */
export function startRoleFrom(config: RoleConfig): Promise<RunningRole> {
  switch (config.role) {
    case "source-gateway":
      return startSourceGatewayRole(config);
    case "sink-gateway":
      return startSinkGatewayRole(config);
    case "domain-service":
      return startDomainServiceRole(config);
    case "projector":
      return startProjectorRole(config);
    case "auth":
      return startAuthRole(config);
  }
}
