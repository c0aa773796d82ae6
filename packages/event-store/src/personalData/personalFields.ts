import { getOption, ScalarType, type DescField, type DescMessage, type Registry } from "@bufbuild/protobuf";
import {
  data_subject as dataSubject,
  personal_data as personalData,
  personal_data_erased as personalDataErased,
} from "@sluice/contracts/gen/sluice/v1/options_pb";
import { PersonalDataConfigError } from "./errors";

/** Where a message type keeps personal data, as its .proto declares it (sluice.v1 field options). */
export interface PersonalFields {
  /** The field naming the data subject whose key seals the others. */
  readonly subject: DescField;
  /** Singular string fields, sealed under the subject's key. */
  readonly personal: readonly DescField[];
  /** The bool field set on read once the subject is erased, when the message has one. */
  readonly erasedMarker: DescField | undefined;
}

const plans = new WeakMap<DescMessage, PersonalFields | null>();

/** The message type's personal fields, or undefined when it declares none. */
export function personalFieldsOf(schema: DescMessage): PersonalFields | undefined {
  let plan = plans.get(schema);
  if (plan === undefined) {
    plan = planOf(schema) ?? null;
    plans.set(schema, plan);
  }
  return plan ?? undefined;
}

/**
 * Checks every declaration in the registry, so a mistake stops the start instead of storing
 * personal data in the clear. Only a top-level field of the stored message is sealed: personal
 * data inside a nested message would not be, so it is refused.
 */
export function checkPersonalDataDeclarations(registry: Registry): void {
  for (const type of registry) {
    if (type.kind !== "message") continue;
    personalFieldsOf(type);
    for (const field of type.fields) {
      const nested = field.fieldKind === "message" || field.fieldKind === "list" || field.fieldKind === "map";
      const inner = nested ? field.message : undefined;
      if (inner && (personalFieldsOf(inner) || inner.fields.some((f) => getOption(f, personalData)))) {
        throw new PersonalDataConfigError(
          `${field.parent.typeName}.${field.name} holds ${inner.typeName}, which declares personal data: ` +
            `only top-level fields of a stored message can be kept encrypted`,
        );
      }
    }
  }
}

function planOf(schema: DescMessage): PersonalFields | undefined {
  const personal = schema.fields.filter((field) => getOption(field, personalData));
  const subjects = schema.fields.filter((field) => getOption(field, dataSubject));
  const markers = schema.fields.filter((field) => getOption(field, personalDataErased));
  for (const field of [...personal, ...subjects]) {
    if (!isSingularString(field)) {
      throw new PersonalDataConfigError(
        `${schema.typeName}.${field.name}: personal data and data subjects must be singular string fields`,
      );
    }
  }
  for (const field of markers) {
    if (field.fieldKind !== "scalar" || field.scalar !== ScalarType.BOOL || field.oneof) {
      throw new PersonalDataConfigError(
        `${schema.typeName}.${field.name}: the personal_data_erased marker must be a singular bool field`,
      );
    }
  }
  const both = personal.find((field) => subjects.includes(field));
  if (both) {
    throw new PersonalDataConfigError(
      `${schema.typeName}.${both.name} cannot be both personal data and its data subject: the subject must stay readable`,
    );
  }
  if (personal.length === 0) return undefined;
  if (subjects.length !== 1) {
    throw new PersonalDataConfigError(
      `${schema.typeName} declares personal data, so exactly one field must be its data_subject (found ${subjects.length})`,
    );
  }
  if (markers.length > 1) throw new PersonalDataConfigError(`${schema.typeName} has more than one erasure marker`);
  return { subject: subjects[0]!, personal, erasedMarker: markers[0] };
}

function isSingularString(field: DescField): boolean {
  return field.fieldKind === "scalar" && field.scalar === ScalarType.STRING && !field.oneof;
}
