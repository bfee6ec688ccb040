using System.Globalization;
using System.Text.RegularExpressions;
using CsvHelper;

namespace Billing.Tests.Focus;

/// <summary>
/// The FOCUS 1.2 column rules a cost-and-usage CSV must keep, written from the specification (not
/// from the exporter): presence, nullability, formats, allowed values, the per-row cost identities,
/// and the dataset's sums (BilledCost per invoice, a commitment's purchases = its usage's effective cost).
/// Shared by the unit and the integration tests.
/// </summary>
public static partial class FocusConformance
{
    public static readonly string[] Mandatory =
    [
        "BilledCost", "BillingAccountId", "BillingAccountName", "BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart", "ChargeCategory",
        "ChargeClass", "ChargeDescription", "ChargePeriodEnd", "ChargePeriodStart", "ContractedCost", "EffectiveCost", "InvoiceIssuerName",
        "ListCost", "PricingQuantity", "PricingUnit", "ProviderName", "PublisherName", "ServiceCategory", "ServiceName",
    ];

    /// <summary>Recommended columns, and the Conditional ones whose condition a GPU cloud with regions, leases, list prices, spot and commitments meets.</summary>
    public static readonly string[] Applicable =
    [
        "ChargeFrequency", "ServiceSubcategory", "InvoiceId", "CommitmentDiscountCategory", "CommitmentDiscountId", "CommitmentDiscountName",
        "CommitmentDiscountQuantity", "CommitmentDiscountStatus", "CommitmentDiscountType", "CommitmentDiscountUnit", "ConsumedQuantity", "ConsumedUnit",
        "ContractedUnitPrice", "ListUnitPrice", "PricingCategory", "RegionId", "RegionName", "ResourceId", "ResourceName", "ResourceType",
        "SkuId", "SkuMeter", "SkuPriceId", "SubAccountId", "SubAccountName",
    ];

    private static readonly string[] NotNull =
    [
        "BilledCost", "BillingAccountId", "BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart", "ChargeCategory", "ChargePeriodEnd",
        "ChargePeriodStart", "ContractedCost", "EffectiveCost", "InvoiceIssuerName", "ListCost", "ProviderName", "PublisherName",
        "ServiceCategory", "ServiceName", "ChargeFrequency", "ServiceSubcategory",
    ];

    private static readonly string[] Decimals =
    [
        "BilledCost", "ContractedCost", "EffectiveCost", "ListCost", "PricingQuantity", "ConsumedQuantity", "CommitmentDiscountQuantity",
        "ContractedUnitPrice", "ListUnitPrice",
    ];

    private static readonly string[] DateTimes = ["BillingPeriodEnd", "BillingPeriodStart", "ChargePeriodEnd", "ChargePeriodStart"];

    private static readonly Dictionary<string, string[]> Allowed = new()
    {
        ["ChargeCategory"] = ["Usage", "Purchase", "Tax", "Credit", "Adjustment"],
        ["ChargeClass"] = ["Correction"],
        ["ChargeFrequency"] = ["One-Time", "Recurring", "Usage-Based"],
        ["PricingCategory"] = ["Standard", "Dynamic", "Committed", "Other"],
        ["CommitmentDiscountCategory"] = ["Spend", "Usage"],
        ["CommitmentDiscountStatus"] = ["Used", "Unused"],
        ["ServiceCategory"] =
        [
            "AI and Machine Learning", "Analytics", "Business Applications", "Compute", "Databases", "Developer Tools", "Multicloud", "Identity",
            "Integration", "Internet of Things", "Management and Governance", "Media", "Migration", "Mobile", "Networking", "Security", "Storage",
            "Web", "Other",
        ],
    };

    private static readonly Dictionary<string, string[]> ComputeSubcategories = new()
    {
        ["Compute"] = ["Containers", "End User Computing", "Quantum Compute", "Serverless Compute", "Virtual Machines", "Other (Compute)"],
    };

    /// <summary>Pairs FOCUS 1.2 makes null exactly together.</summary>
    private static readonly (string, string)[] NullTogether =
    [
        ("PricingQuantity", "PricingUnit"), ("ConsumedQuantity", "ConsumedUnit"), ("CommitmentDiscountQuantity", "CommitmentDiscountUnit"),
        ("RegionId", "RegionName"), ("SubAccountId", "SubAccountName"), ("ResourceId", "ResourceType"),
        ("CommitmentDiscountId", "CommitmentDiscountCategory"), ("CommitmentDiscountId", "CommitmentDiscountType"),
    ];

    public static List<Dictionary<string, string>> Read(string csvText, out string[] header)
    {
        using var csv = new CsvReader(new StringReader(csvText), CultureInfo.InvariantCulture);
        header = csv.Read() && csv.ReadHeader() ? csv.HeaderRecord! : [];
        var columns = header;
        var rows = new List<Dictionary<string, string>>();
        while (csv.Read())
        {
            rows.Add(columns.ToDictionary(name => name, name => csv.GetField(name)!));
        }

        return rows;
    }

    /// <summary>Every rule a row or the dataset breaks, as readable lines; none when the export conforms.</summary>
    /// <param name="invoiceTotals">Each invoice's total, by the id its rows carry: Σ BilledCost per InvoiceId must be it.</param>
    /// <param name="accounts">Only the rows of these billing accounts (null: every row).</param>
    public static List<string> Violations(string csvText, IReadOnlyDictionary<string, decimal> invoiceTotals, IReadOnlySet<string>? accounts = null)
    {
        var rows = Read(csvText, out var header);
        var problems = new List<string>();
        problems.AddRange(Mandatory.Concat(Applicable).Where(c => !header.Contains(c)).Select(c => $"column {c} is missing"));
        problems.AddRange(header.Where(c => !ColumnId().IsMatch(c) && !c.StartsWith("x_", StringComparison.Ordinal)).Select(c => $"column {c} is not a FOCUS or x_ column"));
        var firstCustom = Array.FindIndex(header, c => c.StartsWith("x_", StringComparison.Ordinal));
        if (firstCustom >= 0 && header.Skip(firstCustom).Any(c => !c.StartsWith("x_", StringComparison.Ordinal)))
        {
            problems.Add("custom columns must follow the FOCUS columns");
        }

        if (problems.Count > 0)
        {
            return problems;
        }

        rows = rows.Where(r => accounts is null || accounts.Contains(r["BillingAccountId"])).ToList();
        for (var i = 0; i < rows.Count; i++)
        {
            problems.AddRange(RowViolations(rows[i]).Select(p => $"row {i + 1} ({rows[i]["ChargeCategory"]} {rows[i]["ResourceId"]} {rows[i]["ChargePeriodStart"]}): {p}"));
        }

        if (problems.Count > 0)
        {
            return problems;
        }

        foreach (var invoice in rows.GroupBy(r => r["InvoiceId"]))
        {
            var billed = invoice.Sum(r => Number(r["BilledCost"]));
            if (!invoiceTotals.TryGetValue(invoice.Key, out var total) || billed != total)
            {
                problems.Add($"invoice {invoice.Key}: rows bill {billed}, the invoice {(invoiceTotals.ContainsKey(invoice.Key) ? total : "is unknown")}");
            }
        }

        problems.AddRange(invoiceTotals.Keys.Where(id => invoiceTotals[id] != 0 && rows.All(r => r["InvoiceId"] != id)).Select(id => $"invoice {id} has no rows"));

        // The commitment balancing rule, per billing period (corrections move effective cost between used and unused, not in total).
        foreach (var commitment in rows.Where(r => r["CommitmentDiscountId"] != "").GroupBy(r => (r["CommitmentDiscountId"], r["BillingPeriodStart"])))
        {
            var purchased = commitment.Where(r => r["ChargeCategory"] == "Purchase").Sum(r => Number(r["BilledCost"]));
            var amortized = commitment.Where(r => r["ChargeCategory"] == "Usage").Sum(r => Number(r["EffectiveCost"]));
            if (purchased != amortized)
            {
                problems.Add($"commitment {commitment.Key}: purchases bill {purchased}, its usage's effective cost is {amortized}");
            }
        }

        problems.AddRange(rows.GroupBy(r => r["SkuPriceId"]).Where(g => g.Key != "" && g.Select(r => r["SkuId"]).Distinct().Count() > 1).Select(g => $"SkuPriceId {g.Key} has several SkuIds"));
        problems.AddRange(rows.GroupBy(r => r["ServiceName"]).Where(g => g.Select(r => r["ServiceCategory"]).Distinct().Count() > 1).Select(g => $"ServiceName {g.Key} has several categories"));
        return problems;
    }

    private static IEnumerable<string> RowViolations(Dictionary<string, string> row)
    {
        bool Null(string column) => row[column].Length == 0;
        var category = row["ChargeCategory"];
        var correction = row["ChargeClass"] == "Correction";
        var usageOrPurchase = category is "Usage" or "Purchase";

        foreach (var column in NotNull.Where(Null))
        {
            yield return $"{column} is null";
        }

        foreach (var (column, value) in row.Where(c => c.Value.Trim() is "N/A" or "null" or "NULL" or "Not Applicable" || (c.Value.Length > 0 && c.Value.Trim().Length == 0)))
        {
            yield return $"{column} holds the placeholder '{value}'";
        }

        foreach (var column in Decimals.Where(c => !Null(c) && !NumericFormat().IsMatch(row[c])))
        {
            yield return $"{column} '{row[column]}' is not a FOCUS number";
        }

        foreach (var column in DateTimes.Where(c => !Null(c) && !DateTimeFormat().IsMatch(row[c])))
        {
            yield return $"{column} '{row[column]}' is not YYYY-MM-DDTHH:mm:ssZ";
        }

        if (!CurrencyFormat().IsMatch(row["BillingCurrency"]))
        {
            yield return $"BillingCurrency '{row["BillingCurrency"]}' is not an ISO 4217 code";
        }

        foreach (var (column, values) in Allowed.Where(a => !Null(a.Key) && !a.Value.Contains(row[a.Key])))
        {
            yield return $"{column} '{row[column]}' is not one of {string.Join(", ", values)}";
        }

        if (ComputeSubcategories.TryGetValue(row["ServiceCategory"], out var subcategories) && !subcategories.Contains(row["ServiceSubcategory"]))
        {
            yield return $"ServiceSubcategory '{row["ServiceSubcategory"]}' is not a child of {row["ServiceCategory"]}";
        }

        foreach (var (a, b) in NullTogether.Where(p => Null(p.Item1) != Null(p.Item2)))
        {
            yield return $"{a} and {b} must be null together";
        }

        foreach (var column in new[] { "PricingUnit", "ConsumedUnit", "CommitmentDiscountUnit" }.Where(c => !Null(c) && !UnitFormat().IsMatch(row[c])))
        {
            yield return $"{column} '{row[column]}' is not in the FOCUS unit format";
        }

        if (DateTimes.All(c => !Null(c) && DateTimeFormat().IsMatch(row[c])))
        {
            if (Time(row["ChargePeriodStart"]) >= Time(row["ChargePeriodEnd"]) || Time(row["BillingPeriodStart"]) >= Time(row["BillingPeriodEnd"]))
            {
                yield return "a period ends before it starts";
            }
        }

        if (usageOrPurchase && !correction)
        {
            foreach (var column in new[] { "ListUnitPrice", "ContractedUnitPrice", "PricingCategory", "PricingQuantity", "PricingUnit", "SkuId", "SkuPriceId" }.Where(Null))
            {
                yield return $"{column} is null on a {category} row";
            }
        }

        foreach (var column in new[] { "ListUnitPrice", "ContractedUnitPrice" }.Where(c => !Null(c) && NumericFormat().IsMatch(row[c]) && Number(row[c]) < 0))
        {
            yield return $"{column} is negative";
        }

        if (category == "Purchase" && row["ChargeFrequency"] == "Usage-Based")
        {
            yield return "a purchase is never Usage-Based";
        }

        if (!Null("ConsumedQuantity") && category != "Usage")
        {
            yield return "ConsumedQuantity on a row that is not Usage";
        }

        if (!Null("SkuMeter") && Null("SkuId"))
        {
            yield return "SkuMeter without SkuId";
        }

        var committed = !Null("CommitmentDiscountId");
        if (!committed && new[] { "CommitmentDiscountName", "CommitmentDiscountStatus", "CommitmentDiscountQuantity" }.Any(c => !Null(c)))
        {
            yield return "commitment columns without a CommitmentDiscountId";
        }

        if (committed && category == "Usage" && Null("CommitmentDiscountStatus"))
        {
            yield return "CommitmentDiscountStatus is null on a Usage row of a commitment";
        }

        if (committed && usageOrPurchase && !correction == Null("CommitmentDiscountQuantity"))
        {
            yield return "CommitmentDiscountQuantity is set exactly on Usage and Purchase rows of a commitment that are not corrections";
        }

        if (row["CommitmentDiscountStatus"] == "Unused" && !Null("ConsumedQuantity"))
        {
            yield return "ConsumedQuantity on an Unused row";
        }

        if (row["PricingCategory"] == "Committed" && (!committed || category == "Purchase"))
        {
            yield return "Committed pricing is for usage under a commitment";
        }

        if (category == "Purchase" && committed && Number(row["EffectiveCost"]) != 0)
        {
            yield return "a commitment's purchase has an effective cost";
        }

        if (!correction && Decimals.All(c => Null(c) || NumericFormat().IsMatch(row[c])))
        {
            foreach (var (price, cost) in new[] { ("ListUnitPrice", "ListCost"), ("ContractedUnitPrice", "ContractedCost") }.Where(p => !Null(p.Item1) && !Null("PricingQuantity")))
            {
                if (Number(row[price]) * Number(row["PricingQuantity"]) != Number(row[cost]))
                {
                    yield return $"{cost} {row[cost]} is not {price} {row[price]} × PricingQuantity {row["PricingQuantity"]}";
                }
            }
        }
    }

    public static decimal Number(string text) => decimal.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);

    private static DateTimeOffset Time(string text) => DateTimeOffset.ParseExact(text, "yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    [GeneratedRegex("^[A-Z][A-Za-z0-9]*$")]
    private static partial Regex ColumnId();

    /// <summary>An integer, a decimal or E-notation with a non-positive exponent sign; a leading '-' only.</summary>
    [GeneratedRegex(@"^-?[0-9]+(\.[0-9]+)?([eE]-?[0-9]+)?$")]
    private static partial Regex NumericFormat();

    [GeneratedRegex(@"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")]
    private static partial Regex DateTimeFormat();

    [GeneratedRegex("^[A-Z]{3}$")]
    private static partial Regex CurrencyFormat();

    /// <summary>The unit forms of FOCUS's UnitFormat attribute: plural units, unit-time units, units per time, optionally after a block size.</summary>
    [GeneratedRegex("^([1-9][0-9]* )?[A-Z][A-Za-z]*(-(Years|Months|Days|Hours|Minutes|Seconds))?(/([1-9][0-9]* )?(Year|Month|Day|Hour|Minute|Second))?$")]
    private static partial Regex UnitFormat();
}
