import assert from "node:assert/strict";
import { test } from "node:test";
import { create, createFileRegistry, setExtension, type DescMessage } from "@bufbuild/protobuf";
import {
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  FieldOptionsSchema,
  FileDescriptorProtoSchema,
} from "@bufbuild/protobuf/wkt";
import { registry } from "@sluice/contracts";
import { OrderCreatedSchema, RouteCreatedSchema } from "@sluice/contracts/gen/dispatch/v1/events_pb";
import { data_subject as dataSubject, personal_data as personalData } from "@sluice/contracts/gen/sluice/v1/options_pb";
import { PersonalDataConfigError } from "./errors";
import { checkPersonalDataDeclarations, personalFieldsOf } from "./personalFields";

interface FieldSpec {
  readonly name: string;
  readonly type?: FieldDescriptorProto_Type;
  readonly repeated?: boolean;
  readonly personal?: boolean;
  readonly subject?: boolean;
  /** A message field of this type (in the same file). */
  readonly message?: string;
}

/** A registry of one file, built at run time, whose messages declare their fields as given. */
function registryOf(messages: Record<string, readonly FieldSpec[]>) {
  const file = create(FileDescriptorProtoSchema, {
    name: "test/v1/declarations.proto",
    package: "test.v1",
    syntax: "proto3",
    messageType: Object.entries(messages).map(([name, fields]) => ({
      name,
      field: fields.map((field, index) => {
        const options = create(FieldOptionsSchema);
        if (field.personal) setExtension(options, personalData, true);
        if (field.subject) setExtension(options, dataSubject, true);
        return {
          name: field.name,
          jsonName: field.name,
          number: index + 1,
          type: field.message ? FieldDescriptorProto_Type.MESSAGE : (field.type ?? FieldDescriptorProto_Type.STRING),
          typeName: field.message ? `.test.v1.${field.message}` : undefined,
          label: field.repeated ? FieldDescriptorProto_Label.REPEATED : FieldDescriptorProto_Label.OPTIONAL,
          options,
        };
      }),
    })),
  });
  return createFileRegistry(file, () => undefined);
}

const message = (registry: ReturnType<typeof registryOf>, name: string): DescMessage =>
  registry.getMessage(`test.v1.${name}`)!;

test("Dispatch's events declare their personal data and its subject, read from the .proto", () => {
  checkPersonalDataDeclarations(registry);
  const created = personalFieldsOf(OrderCreatedSchema);
  assert.equal(created?.subject.name, "order_id");
  assert.deepEqual(
    created?.personal.map((field) => field.name),
    ["consignee", "address"],
  );
  assert.equal(created?.erasedMarker?.name, "personal_data_erased");
  assert.equal(personalFieldsOf(RouteCreatedSchema), undefined);
});

test("a declaration the store could not keep encrypted stops the start, naming the field", () => {
  const cases: [string, Record<string, readonly FieldSpec[]>, RegExp][] = [
    ["no subject", { Thing: [{ name: "name", personal: true }] }, /exactly one field must be its data_subject/],
    [
      "two subjects",
      {
        Thing: [
          { name: "a", subject: true },
          { name: "b", subject: true },
          { name: "name", personal: true },
        ],
      },
      /found 2/,
    ],
    [
      "not a string",
      {
        Thing: [
          { name: "id", subject: true },
          { name: "age", type: FieldDescriptorProto_Type.INT32, personal: true },
        ],
      },
      /Thing\.age: personal data and data subjects must be singular string fields/,
    ],
    [
      "repeated",
      {
        Thing: [
          { name: "id", subject: true },
          { name: "names", repeated: true, personal: true },
        ],
      },
      /Thing\.names/,
    ],
    ["subject and personal at once", { Thing: [{ name: "id", subject: true, personal: true }] }, /both personal data/],
    [
      "nested",
      {
        Contact: [
          { name: "id", subject: true },
          { name: "name", personal: true },
        ],
        Event: [{ name: "contact", message: "Contact" }],
      },
      /Event\.contact holds test\.v1\.Contact, which declares personal data/,
    ],
  ];
  for (const [what, messages, reason] of cases) {
    assert.throws(
      () => checkPersonalDataDeclarations(registryOf(messages)),
      (error: unknown) => error instanceof PersonalDataConfigError && reason.test(error.message),
      what,
    );
  }
  const fine = registryOf({
    Thing: [
      { name: "id", subject: true },
      { name: "name", personal: true },
    ],
  });
  checkPersonalDataDeclarations(fine);
  assert.deepEqual(
    personalFieldsOf(message(fine, "Thing"))?.personal.map((field) => field.name),
    ["name"],
  );
});
