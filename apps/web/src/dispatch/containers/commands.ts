import { callActions } from "@sluice/client-sdk/redux";
import { DispatchCommandService } from "@sluice/contracts/gen/dispatch/v1/commands_pb";

/** Dispatch's commands as action creators typed from the generated service. */
export const commands = callActions(DispatchCommandService);
