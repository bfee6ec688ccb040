namespace Billing.Invoicing.Jobs;

/// <summary>Invoice lifecycle settings (section <c>Billing:Invoicing</c>).</summary>
public sealed class InvoicingOptions
{
    public const string Section = "Billing:Invoicing";

    /// <summary>How long after a month ends late usage may still join its invoice before it is issued.</summary>
    public TimeSpan FinalizationGrace { get; set; } = TimeSpan.FromHours(1);
}
