/**
 * Thrown by `append` when the command id was handled already in the organization (by an earlier
 * call, or by a concurrent retry that committed first). Nothing was appended; the stored result
 * is at `EventStore.commandResult`. `handleCommand` turns this into that result.
 */
export class CommandAlreadyHandled extends Error {
  constructor(
    readonly organizationId: string,
    readonly commandId: string,
  ) {
    super(`command ${commandId} was handled already`);
    this.name = "CommandAlreadyHandled";
  }
}
